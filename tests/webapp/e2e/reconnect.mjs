// The co-editing socket closes (4401) when the token expires; the app renews the token and
// reconnects without losing what was typed while it was away (issue 17).
// Usage: EAKTE_BASE_URL=… EAKTE_CASE_ID=… node reconnect.mjs   (server with a short dev token TTL)
import { base, step, launch, openPage, devSignIn, assertNoPageErrors, reportPageErrors } from './lib.mjs'

const caseId = process.env.EAKTE_CASE_ID

const browser = await launch()

// bounds only: the token lifetime is what the test waits for
const open = (label) => openPage(browser, label, { timeout: 90000 })
const signIn = devSignIn

const notesContain = (text) => document.querySelector('#notes-editor .cm-content').innerText.includes(text)

try {
  const a = await open('clerk')
  await signIn(a, 'clerk')
  const sockets = []
  a.on('websocket', (ws) => { if (ws.url().includes('/collab')) sockets.push(ws) })
  await a.goto(`${base}/app/cases/${caseId}`)
  await a.waitForSelector('#connection.connected')
  await a.click('#notes-editor .cm-content')
  await a.keyboard.type('Vor dem Ablauf getippt. ')
  step('clerk connected and typed')

  // hold every renewal until the clerk has typed while the socket is closed
  let release
  const gate = new Promise((resolve) => { release = resolve })
  let renewals = 0
  await a.route('**/app/dev-login', async (route) => { renewals++; await gate; await route.continue() })
  const closed = new Promise((resolve) => sockets[0].on('close', resolve))
  await closed
  await a.waitForFunction(() => !document.querySelector('#connection').classList.contains('connected'))
  step('the server closed the socket when the token expired')
  await a.click('#notes-editor .cm-content')
  await a.keyboard.press('End')
  await a.keyboard.type('Offline getippt.')
  if (renewals < 1) await a.waitForRequest('**/app/dev-login')
  release()
  await a.waitForFunction(() => document.querySelector('#connection').classList.contains('connected'))
  if (sockets.length < 2) throw new Error(`expected a second socket, saw ${sockets.length}`)
  step(`renewed the token and reconnected (${sockets.length} sockets)`)

  const b = await open('approver')
  await signIn(b, 'approver')
  await b.goto(`${base}/app/cases/${caseId}`)
  await b.waitForSelector('#connection.connected')
  await b.waitForFunction(notesContain, 'Vor dem Ablauf getippt.')
  await b.waitForFunction(notesContain, 'Offline getippt.')
  step('a colleague sees both texts: nothing typed while away was lost')
  assertNoPageErrors()
  console.log('RECONNECT OK')
} catch (err) {
  console.error(err.stack || String(err))
  reportPageErrors()
  process.exitCode = 1
} finally {
  await browser.close()
}
