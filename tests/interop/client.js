// A real Yjs client (yjs + y-websocket's WebsocketProvider) for the interop tests.
// Usage: node client.js '<json>' with {url, room, token, name, edits, offlineEdits,
//   expectMarkers, expectKeys, timeoutMs, spoofName, color, subprotocol, exitOnClose}.
//   subprotocol: send the token as WebSocket subprotocol `bearer.<token>` instead of ?token=;
//   exitOnClose: a close code; print the state and exit once the server closed with it.
// Prints the final state as JSON.
const Y = require('yjs')
const { WebsocketProvider } = require('y-websocket')
const WebSocket = require('ws')

const cfg = JSON.parse(process.argv[2])
const doc = new Y.Doc()
const provider = new WebsocketProvider(cfg.url, cfg.room, doc, {
  WebSocketPolyfill: WebSocket,
  params: cfg.subprotocol ? {} : { token: cfg.token },
  protocols: cfg.subprotocol ? ['eakte-collab', `bearer.${cfg.token}`] : [],
  disableBc: true,
  maxBackoffTime: 200
})
const notes = doc.getText('notes')
const fields = doc.getMap('fields')
const closes = []
const seenUsers = new Map() // every other client's awareness user, as the server relayed it
provider.awareness.on('change', () => {
  provider.awareness.getStates().forEach((state, id) => {
    if (id !== doc.clientID && state.user) seenUsers.set(JSON.stringify(state.user), state.user)
  })
})
const denied = []
provider.on('connection-close', (event) => {
  if (event) closes.push(event.code)
  if (cfg.exitOnClose && closes.includes(cfg.exitOnClose)) {
    clearTimeout(timer)
    console.log(JSON.stringify({ notes: notes.toString(), fields: fields.toJSON(), closes, denied }))
    process.exit(0)
  }
})
const originalWarn = console.warn // y-websocket reports "permission denied" messages here
console.warn = (...args) => { denied.push(args.join(' ')); originalWarn(...args) }

const fail = (why) => {
  console.log(JSON.stringify({ error: why, notes: notes.toString(), fields: fields.toJSON(), closes }))
  process.exit(1)
}
const timer = setTimeout(() => fail('timeout'), cfg.timeoutMs || 20000)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const synced = () => new Promise((resolve) => {
  if (provider.synced) return resolve()
  provider.once('sync', (s) => { if (s) resolve() })
})

function edit (i, tag) {
  doc.transact(() => {
    const pos = Math.random() < 0.5 ? 0 : notes.length // whole markers: never split another one
    notes.insert(pos, `<${cfg.name}:${tag}${i}>`)
    fields.set(`k_${cfg.name}`, `${tag}${i}`)
  })
}

function done () {
  const text = notes.toString()
  return (cfg.expectMarkers || []).every((m) => text.includes(m)) &&
    (cfg.expectKeys || []).every(([k, v]) => fields.get(k) === v)
}

async function main () {
  provider.awareness.setLocalStateField('user', { name: cfg.spoofName || 'spoofed', color: cfg.color || '#cc0000' })
  await synced()
  for (let i = 0; i < (cfg.edits || 0); i++) {
    edit(i, 'e')
    if (i % 5 === 4) await sleep(1)
  }
  if (cfg.offlineEdits) {
    await sleep(cfg.settleMs || 300)
    provider.disconnect()
    for (let i = 0; i < cfg.offlineEdits; i++) edit(i, 'off')
    await sleep(cfg.offlineMs || 1000)
    provider.connect()
    await synced()
  }
  while (!done()) await sleep(20)
  await sleep(cfg.lingerMs || 300)
  const others = [...seenUsers.values()]
  clearTimeout(timer)
  console.log(JSON.stringify({ notes: notes.toString(), fields: fields.toJSON(), others, closes }))
  provider.destroy()
  process.exit(0)
}
main().catch((e) => fail(String(e)))
