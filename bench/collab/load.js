// Load generator of real Yjs clients (yjs + y-websocket, Node) measuring end-to-end delivery.
// Usage: node load.js '<json>' with {url, room, token, clients, edits, rate (edits/s per client,
// 0 = as fast as possible), timeoutMs}. Prints "ready" once every client is synced, waits for a
// line on stdin, runs, then prints one JSON line of results.
const path = require('path')
const modules = path.join(__dirname, '..', '..', 'tests', 'interop', 'node_modules')
const Y = require(path.join(modules, 'yjs'))
const { WebsocketProvider } = require(path.join(modules, 'y-websocket'))
const WebSocket = require(path.join(modules, 'ws'))
const { performance } = require('perf_hooks')

const cfg = JSON.parse(process.argv[2])
const n = cfg.clients
const expected = n * cfg.edits * (n - 1)
const latencies = new Float64Array(expected)
let delivered = 0
let firstSend = 0
let lastReceipt = 0

const clients = []
for (let i = 0; i < n; i++) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(cfg.url, cfg.room, doc, {
    WebSocketPolyfill: WebSocket,
    params: cfg.token ? { token: cfg.token } : {},
    disableBc: true
  })
  const map = doc.getMap('bench')
  map.observe((event) => {
    if (event.transaction.local) return
    const now = performance.now()
    event.keysChanged.forEach((key) => {
      const sent = map.get(key)
      if (typeof sent === 'number' && delivered < expected) {
        latencies[delivered++] = now - sent
        lastReceipt = now
      }
    })
    if (delivered >= expected) finish()
  })
  clients.push({ doc, provider, map, index: i })
}

const timeout = setTimeout(() => finish('timeout'), cfg.timeoutMs || 60000)
let finished = false

function finish (error) {
  if (finished) return
  finished = true
  clearTimeout(timeout)
  const used = Array.from(latencies.subarray(0, delivered)).sort((a, b) => a - b)
  const q = (p) => used.length ? used[Math.min(used.length - 1, Math.floor(p * used.length))] : null
  const seconds = (lastReceipt - firstSend) / 1000
  console.log(JSON.stringify({
    error: error || null,
    clients: n,
    edits: cfg.edits,
    expected,
    delivered,
    seconds,
    rate: seconds > 0 ? delivered / seconds : 0,
    p50: q(0.5),
    p99: q(0.99),
    max: used.length ? used[used.length - 1] : null
  }))
  for (const c of clients) c.provider.destroy()
  setTimeout(() => process.exit(error ? 1 : 0), 50)
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function run (client) {
  const interval = cfg.rate ? 1000 / cfg.rate : 0
  const start = performance.now() + (interval ? Math.random() * interval : 0)
  for (let k = 0; k < cfg.edits; k++) {
    if (interval) {
      const due = start + k * interval
      const wait = due - performance.now()
      if (wait > 0) await sleep(wait)
    } else if (k % 10 === 9) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    client.map.set(`${client.index}:${k}`, performance.now())
  }
}

async function main () {
  await Promise.all(clients.map((c) => new Promise((resolve) => {
    if (c.provider.synced) return resolve()
    c.provider.once('sync', resolve)
  })))
  console.log('ready')
  await new Promise((resolve) => process.stdin.once('data', resolve))
  firstSend = performance.now()
  await Promise.all(clients.map(run))
}
main().catch((e) => { console.error(e); finish(String(e)) })
