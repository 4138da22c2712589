// Issue 16: three officials in three browser contexts (clerk, approver, agency):
// assignment and "Meine Vorgänge", the deadline overview after the ticker runs, "Zur Zeichnung",
// notifications, and a Beteiligung requested and answered with the agency unable to read the
// Vermerk (page, API and co-editing socket). Screenshots at 390 px and 1440 px.
// Usage: EAKTE_BASE_URL=… EAKTE_PYTHON=… EAKTE_SERVER_ENV='{"EAKTE_DATA_DIR":…}' EAKTE_ARTIFACTS=dir node work.mjs
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { base, step, launch, openPage, devSignIn, assertNoPageErrors, reportPageErrors } from './lib.mjs'

const artifacts = process.env.EAKTE_ARTIFACTS
const fail = (text) => { throw new Error(text) }
if (artifacts) mkdirSync(artifacts, { recursive: true })

const browser = await launch()

const open = (label) => openPage(browser, label, { width: 1440 })
const signIn = devSignIn

async function tokenOf (user) {
  const r = await fetch(`${base}/app/dev-login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ tenant: 'augsburg', user })
  })
  return (await r.json()).token
}

async function call (token, method, path, body) {
  const init = { method, headers: { Authorization: `Bearer ${token}` } }
  if (body instanceof FormData) init.body = body
  else if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body) }
  const r = await fetch(`${base}${path}`, init)
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) : null }
}

async function shoot (page, name) {
  if (!artifacts) return
  for (const width of [390, 1440]) {
    await page.setViewportSize({ width, height: 900 })
    await page.screenshot({ path: `${artifacts}/${name}-${width}.png`, fullPage: true })
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    if (width === 390 && overflow > 0) console.log(`  (note: ${name} is ${overflow} px wider than 390 px)`)
  }
  await page.setViewportSize({ width: 1440, height: 1000 })
}

// the receipt day whose Genehmigungsfiktion period (Art. 68 Abs. 2 S. 1 BayBO: 3 weeks after
// receipt plus 3 months) ends about `days` days from today
function receivedFor (days) {
  const d = new Date()
  d.setDate(d.getDate() + days)
  d.setMonth(d.getMonth() - 3)
  d.setDate(d.getDate() - 21)
  return d.toLocaleDateString('sv-SE')
}

const pdf = (text) => Buffer.from(`%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% ${text}\ntrailer<</Root 1 0 R>>\n%%EOF\n`)
const VERMERK = 'Interner Vermerk: Nachbar kündigt Klage an'

try {
  const clerk = await open('clerk')
  const approver = await open('approver')
  const agency = await open('agency')
  await signIn(agency, 'agency')
  await signIn(approver, 'approver')
  await signIn(clerk, 'clerk')
  const clerkToken = await tokenOf('clerk')
  const agencyToken = await tokenOf('agency')
  // a second clerk signs in once (enters the directory) to be picked as Vertretung
  const deputyToken = await tokenOf('clerk-2')
  if ((await call(deputyToken, 'PUT', '/api/v1/directory/me')).status !== 200) fail('clerk-2 not entered')
  step('clerk, approver and agency signed in (three browser contexts)')

  // the approver is not offered "Neuer Vorgang" and has no "Meine Vorgänge"
  await approver.waitForSelector('h1:has-text("Zur Zeichnung")')
  if (await approver.locator('#nav-mine').count()) fail('approver offered Meine Vorgänge')
  await approver.click('#nav-cases')
  await approver.waitForSelector('#search')
  if (await approver.locator('#new-case').count()) fail('approver offered Neuer Vorgang')
  step('the approver starts on "Zur Zeichnung" and is not offered "Neuer Vorgang"')

  // the clerk records a paper application that arrived months ago (Eingangsdatum)
  await clerk.click('#nav-cases')
  await clerk.click('#new-case')
  const requiredMarks = await clerk.locator('#create-case .req').count()
  if (requiredMarks < 4) fail(`only ${requiredMarks} required fields marked`)
  await clerk.click('#create-case button[type=submit]')
  await clerk.waitForSelector('#create-case .notice.error:has-text("Bitte ausfüllen")')
  await clerk.fill('#create-case [name=title]', 'Wohnhaus Papierantrag')
  await clerk.selectOption('#create-case [name=procedure]', 'baybo-59')
  await clerk.fill('#create-case [name=address]', 'Hallstraße 3, 86150 Augsburg')
  await clerk.fill('#create-case [name=applicant_name]', 'Erika Papier')
  await clerk.check('#create-case [name=housing]')
  await clerk.fill('#create-case [name=received_on]', receivedFor(-4))
  await clerk.click('#create-case button[type=submit]')
  await clerk.waitForURL(/\/app\/cases\/[0-9a-f-]{36}$/)
  const paperId = clerk.url().split('/').pop()
  step(`paper application recorded with Eingangsdatum ${receivedFor(-4)}`)

  // the Vertretung is set on the case page
  await clerk.waitForSelector('#assign-deputy option:has-text("Vertretung Sachbearbeitung")', { state: 'attached' })
  const assignee = await clerk.locator('#assign-assignee').inputValue()
  if (assignee !== 'clerk@augsburg') fail(`creator not assigned: ${assignee}`)
  await clerk.selectOption('#assign-deputy', 'clerk-2@augsburg')
  await clerk.click('#assignment button[type=submit]')
  await clerk.waitForSelector('#assignment-status .notice.ok')
  step('the creator is Sachbearbeiter; the Vertretung was assigned in the browser')

  // two more cases through the API: one near its fiction, one driven to "zur Zeichnung"
  const soon = (await call(clerkToken, 'POST', '/api/v1/cases', {
    title: 'Wohnhaus Frist', procedure: 'baybo-59', housing: true, received_on: receivedFor(6),
    site: { address: 'Karlstraße 8, 86150 Augsburg' }, applicant: { name: 'Max Frist' }
  })).body
  const signing = (await call(clerkToken, 'POST', '/api/v1/cases', {
    title: 'Garage zur Zeichnung', procedure: 'baybo-59',
    site: { address: 'Jakoberstraße 1, 86152 Augsburg' }, applicant: { name: 'Gustav Garage' }
  })).body
  const uploadAs = async (token, caseId, kind, title) => {
    const form = new FormData()
    form.append('title', title)
    form.append('kind', kind)
    form.append('file', new Blob([pdf(title)], { type: 'application/pdf' }), `${kind}.pdf`)
    const up = await call(token, 'POST', `/api/v1/cases/${caseId}/documents`, form)
    if (up.status !== 201) fail(`upload ${kind}: ${JSON.stringify(up.body)}`)
  }
  for (const kind of ['lageplan', 'bauzeichnung', 'baubeschreibung']) await uploadAs(clerkToken, signing.id, kind, kind)
  await uploadAs(clerkToken, soon.id, 'lageplan', 'Lageplan 1:500')
  await uploadAs(clerkToken, soon.id, 'sonstiges', 'Interne Notiz zur Klage')
  for (const [action, expected] of [['vollstaendigkeit_feststellen', 'eingegangen'], ['beteiligung_abschliessen', 'beteiligung'], ['entscheidung_entwerfen', 'pruefung']]) {
    const r = await call(clerkToken, 'POST', `/api/v1/cases/${signing.id}/process/actions`, { action, expected_state: expected, input: {} })
    if (r.status !== 200) fail(`${action}: ${JSON.stringify(r.body)}`)
  }

  // "Meine Vorgänge": markers first, total, sortable
  await clerk.click('#nav-mine')
  await clerk.waitForSelector('#my-cases tbody tr')
  const total = (await clerk.textContent('#work-total')).trim()
  if (total !== '3 Vorgänge') fail(`total ${total}`)
  const firstRow = clerk.locator('#my-cases tbody tr').first()
  if ((await firstRow.getAttribute('data-case-id')) !== paperId) fail('overdue case is not first')
  await firstRow.locator('.badge.overdue').waitFor()
  await clerk.locator(`#my-cases tr[data-case-id="${soon.id}"] .badge.fiction:has-text("Fiktion in")`).waitFor()
  await clerk.click('#my-cases button.sort[data-sort=title]')
  await clerk.waitForSelector('#my-cases th[aria-sort=ascending] button[data-sort=title]')
  step(`Meine Vorgänge: ${total}, overdue first, "${(await clerk.locator(`#my-cases tr[data-case-id="${soon.id}"] .badge.fiction`).textContent()).trim()}" shown, sortable`)
  await shoot(clerk, 'meine-vorgaenge')

  // "Zur Zeichnung" for the approver
  await approver.click('#nav-signing')
  await approver.waitForSelector(`#signing tr[data-case-id="${signing.id}"]`)
  const signingRows = await approver.locator('#signing tbody tr').count()
  if (signingRows !== 1) fail(`${signingRows} cases to sign`)
  step('the approver sees the case waiting for signature in "Zur Zeichnung"')
  await shoot(approver, 'zur-zeichnung')

  // Beteiligung: the clerk writes an internal Vermerk, then asks the agency
  await clerk.goto(`${base}/app/cases/${soon.id}`)
  await clerk.waitForSelector('#connection.connected')
  await clerk.click('#notes-editor .cm-content')
  await clerk.keyboard.type(VERMERK)
  await clerk.waitForSelector('#participation-form')
  await clerk.selectOption('#participation-kind', 'fachstelle_stellungnahme')
  const duePreview = (await clerk.textContent('#participation-due')).trim()
  if (!/Frist bis \d\d\.\d\d\.\d{4}/.test(duePreview)) fail(`no deadline preview: ${duePreview}`)
  await clerk.selectOption('#participation-agency', 'agency@augsburg')
  if ((await clerk.inputValue('#participation-party')) !== 'Fachstelle (Demo)') fail('party not filled from the picker')
  await clerk.click('#participation-form button[type=submit]')
  await clerk.waitForSelector('#participations li[data-status=open]:has-text("Fachstelle (Demo)")')
  step(`Beteiligung requested in the browser (${duePreview})`)
  await shoot(clerk, 'vorgang-beteiligung')

  // the agency: its page shows the request and the Bauvorlagen, never the Vermerk
  await agency.goto(`${base}/app/`)
  await agency.locator('table.list tbody tr', { hasText: soon.file_number }).click()
  await agency.waitForSelector('#agency-request li[data-status=open]')
  await agency.waitForSelector('#agency-documents .doc-title:has-text("Lageplan 1:500")')
  const agencyText = await agency.textContent('main')
  if (agencyText.includes('Interne Notiz')) fail('agency sees an internal document')
  if (agencyText.includes('Nachbar kündigt') || (await agency.locator('#notes-editor, #decision-editor').count())) fail('agency page shows the Vermerk')
  const probe = await agency.evaluate(async ({ caseId, token }) => {
    const auth = { headers: { Authorization: `Bearer ${token}` } }
    const workspace = await fetch(`/api/v1/cases/${caseId}/workspace`, auth)
    const processView = await (await fetch(`/api/v1/cases/${caseId}/process`, auth)).text()
    const socket = await new Promise((resolve) => {
      const ws = new WebSocket(`ws://${location.host}/api/v1/collab/${caseId}`, ['eakte-collab', `bearer.${token}`])
      let messages = 0
      ws.onmessage = () => { messages++ }
      ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, messages })
    })
    return { workspace: workspace.status, workspaceBody: await workspace.text(), processView, socket }
  }, { caseId: soon.id, token: agencyToken })
  if (probe.workspace !== 403 || probe.workspaceBody.includes('Nachbar')) fail(`workspace JSON: ${probe.workspace}`)
  if (probe.processView.includes('Nachbar')) fail('process view leaks the Vermerk')
  if (probe.socket.code !== 4403 || probe.socket.messages !== 0) fail(`socket: ${JSON.stringify(probe.socket)}`)
  step(`the agency sees the Lageplan, not the internal note, and cannot read the Vermerk: page, workspace JSON ${probe.workspace}, socket closed ${probe.socket.code} after ${probe.socket.messages} messages`)
  await shoot(agency, 'fachstelle')

  // the agency answers with a statement and a file
  await agency.selectOption('#answer-kind', 'statement')
  await agency.fill('#answer-statement', 'Keine Bedenken, wenn das Niederschlagswasser versickert wird.')
  await agency.setInputFiles('#answer-file', { name: 'stellungnahme.pdf', mimeType: 'application/pdf', buffer: pdf('Stellungnahme') })
  await agency.click('#answer-form button[type=submit]')
  await agency.waitForSelector('#agency-request li[data-status=answered]')
  await agency.waitForSelector('#agency-documents .doc-title:has-text("Stellungnahme Fachstelle")')
  step('the agency answered with text and an uploaded Stellungnahme')

  // the clerk's badge counts the answer without a reload: the app refreshes it when the tab
  // comes to the front again (and every minute while it is visible)
  await clerk.evaluate(() => document.dispatchEvent(new Event('visibilitychange')))
  await clerk.waitForSelector('#notification-count:has-text("1")')
  step('the badge counts the answer without a reload')
  // the clerk sees the answer and a notification
  await clerk.reload()
  await clerk.waitForSelector('#participations li[data-status=answered]:has-text("versickert")')
  await clerk.waitForSelector('#notification-count:has-text("1")')
  await clerk.click('#notification-button')
  await clerk.waitForSelector('#notifications li[data-kind=participation_answered]:has-text("hat geantwortet")')
  await clerk.click('#notification-button')
  step('the clerk sees the answer on the case and a notification')

  // the ticker runs: the Genehmigungsfiktion of the paper application is detected
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EAKTE_'))), ...JSON.parse(process.env.EAKTE_SERVER_ENV) }
  const out = execFileSync(process.env.EAKTE_PYTHON, ['-m', 'eakte.cli', 'process', 'tick'], { env, encoding: 'utf8' })
  if (!out.includes('fiktion_eintreten')) fail(`tick did not fire the fiction: ${out}`)
  step(`ticker ran: ${out.trim().split('\n').length} deadline(s) fired`)

  await clerk.click('#nav-mine')
  await clerk.waitForSelector(`#my-cases tr[data-case-id="${paperId}"] .badge.fiction:has-text("Fiktion festgestellt")`)
  await clerk.reload()
  await clerk.click('#notification-button')
  await clerk.waitForSelector('#notifications li[data-kind=fiction_detected]:has-text("Genehmigungsfiktion")')
  await clerk.click('#notifications li[data-kind=fiction_detected] button')
  await clerk.waitForURL(new RegExp(`/app/cases/${paperId}$`))
  step('after the tick: "Fiktion festgestellt" in Meine Vorgänge and a notification leading to the case')

  await clerk.click('#nav-deadlines')
  await clerk.waitForSelector('#deadlines tbody tr')
  const dues = await clerk.locator('#deadlines tbody tr td:first-child strong').allTextContents()
  const iso = dues.map((d) => d.split('.').reverse().join('-'))
  if (iso.join() !== [...iso].sort().join()) fail(`deadlines not sorted: ${dues}`)
  if (await clerk.locator(`#deadlines tr[data-case-id="${paperId}"][data-kind=genehmigungsfiktion]`).count()) fail('fired fiction still listed as running')
  await clerk.locator(`#deadlines tr[data-case-id="${soon.id}"][data-kind=genehmigungsfiktion] .badge.fiction`).waitFor()
  await clerk.selectOption('#deadline-kind', 'genehmigungsfiktion')
  await clerk.waitForFunction(() => [...document.querySelectorAll('#deadlines tbody tr')].every((tr) => tr.dataset.kind === 'genehmigungsfiktion'))
  step(`Fristen after the tick: ${dues.length} running, sorted by end date, filter by kind`)
  await shoot(clerk, 'fristen')

  assertNoPageErrors()
  console.log('WORK E2E OK')
} catch (err) {
  console.error(err.stack || String(err))
  reportPageErrors()
  process.exitCode = 1
} finally {
  await browser.close()
}
