// Two officials in two headless Chromium pages co-edit one case (plus a third for the 409).
// Usage: EAKTE_BASE_URL=http://127.0.0.1:8000 [EAKTE_SCREENSHOT=shot.png] node run.mjs
import { base, step, launch, openPage, devSignIn, assertNoPageErrors, reportPageErrors, openFromList } from './lib.mjs'


const browser = await launch()

const open = (label) => openPage(browser, label)
const signIn = devSignIn

async function openCase (page, fileNumber) {
  await openFromList(page, fileNumber)
  await page.waitForSelector('#connection.connected')
}

const editorText = (page, id) => page.locator(`#${id} .cm-content`).innerText()

try {
  const a = await open('clerk')
  const b = await open('approver')
  await signIn(a, 'clerk')
  await signIn(b, 'approver')
  step('both signed in')

  await a.click('#nav-cases')
  await a.click('#new-case')
  await a.fill('#create-case [name=title]', 'Neubau Einfamilienhaus mit Garage')
  await a.selectOption('#create-case [name=procedure]', 'baybo-59')
  await a.fill('#create-case [name=address]', 'Maximilianstraße 1, 86150 Augsburg')
  await a.fill('#create-case [name=flurstueck]', '1234/5')
  await a.fill('#create-case [name=applicant_name]', 'Maria Muster')
  await a.click('#create-case button[type=submit]')
  await a.waitForURL(/\/app\/cases\/[0-9a-f-]{36}$/)
  await a.waitForSelector('#connection.connected')
  const fileNumber = (await a.textContent('#file-number')).trim()
  step(`case created: ${fileNumber}`)

  await openCase(b, fileNumber)
  await b.waitForFunction(() => document.querySelector('#presence').textContent.includes('Sachbearbeitung'))
  await a.waitForFunction(() => document.querySelector('#presence').textContent.includes('Zeichnungsberechtigte'))
  step('both see each other present')

  const note = 'Ortsbesichtigung am Montag, Abstandsflächen prüfen.'
  await a.click('#notes-editor .cm-content')
  await a.keyboard.type(note)
  await b.waitForFunction((text) => document.querySelector('#notes-editor .cm-content').innerText.includes(text), note)
  step('the approver sees the clerk type into the Vermerk')

  await b.click('#decision-editor .cm-content')
  await b.keyboard.type('Die Baugenehmigung wird erteilt.')
  await a.waitForFunction(() => document.querySelector('#decision-editor .cm-content').innerText.includes('wird erteilt'))
  await a.waitForSelector('#decision-editor .cm-ySelectionInfo')
  step('the clerk sees the decision draft and the remote cursor')

  await a.fill('#field-title', 'Neubau Einfamilienhaus mit Carport')
  await b.waitForFunction(() => document.querySelector('#field-title').value === 'Neubau Einfamilienhaus mit Carport')
  await b.fill('#checklist-add', 'Abstandsflächen eingehalten')
  await b.press('#checklist-add', 'Enter')
  await a.waitForSelector('#checklist li:has-text("Abstandsflächen eingehalten")')
  await a.fill('#conditions-add', 'Stellplätze vor Nutzungsaufnahme herstellen')
  await a.press('#conditions-add', 'Enter')
  await b.waitForSelector('#conditions li input.inline')
  step('fields, checklist and conditions are live')

  await a.setInputFiles('#upload-file', {
    name: 'lageplan.pdf',
    mimeType: 'application/pdf',
    buffer: Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n')
  })
  await a.waitForSelector('#document-list .doc-title:has-text("lageplan.pdf")')
  await b.waitForSelector('#document-list .doc-title:has-text("lageplan.pdf")')
  const [download] = await Promise.all([
    a.waitForEvent('download'),
    a.click('#document-list li.doc:has-text("lageplan.pdf") button:has-text("Herunterladen")')
  ])
  if (download.suggestedFilename() !== 'lageplan.pdf') throw new Error(`download named ${download.suggestedFilename()}`)
  await a.click('#document-list li.doc button:has-text("Versionen")')
  await a.waitForSelector('#document-list table.versions td:has-text("v1")')
  await a.setInputFiles('#upload-file', { name: 'bild.pdf', mimeType: 'application/pdf', buffer: Buffer.from('nur Text, kein PDF\n') })
  await a.waitForSelector('#upload-status .notice.error')
  step(`upload listed (in both pages); rejected upload shown: ${(await a.textContent('#upload-status')).trim()}`)

  const c = await open('clerk-2')
  await signIn(c, 'clerk')
  await openCase(c, fileNumber)
  await c.click('button[data-action=nachfordern]:not([disabled])')
  await c.fill('.actionform [name=maengel]', 'Lageplan')
  await c.fill('.actionform [name=frist_bis]', '2027-01-31')
  await c.check('.actionform [name=hinweis_ruecknahmefiktion]')

  await a.waitForSelector('button[data-action=vollstaendigkeit_feststellen] + ul.reasons li')
  await a.click('button[data-action=nachfordern]')
  await a.fill('.actionform [name=maengel]', 'Bauzeichnungen 1:100\nBaubeschreibung')
  await a.fill('.actionform [name=frist_bis]', '2027-01-31')
  await a.check('.actionform [name=hinweis_ruecknahmefiktion]')
  await a.click('.actionform button[type=submit]')
  await a.waitForSelector('#process-state[data-state=nachforderung]')
  await a.waitForSelector('#transitions li:has-text("Unterlagen nachfordern")')
  await b.waitForSelector('#process-state[data-state=nachforderung]')
  await b.waitForFunction(() => document.querySelector('#case-title').textContent.includes('Carport'))
  step('procedure action taken via the button and its form; the approver\'s page follows')

  await c.waitForSelector('#process-status .notice.warn')
  await c.click('.actionform button[type=submit]')
  await c.waitForSelector('#process-status .notice.warn:has-text("schneller")')
  await c.waitForSelector('#process-state[data-state=nachforderung]')
  step('a stale second clerk gets "someone else was faster – reloaded"')

  if (process.env.EAKTE_SCREENSHOT) {
    await a.screenshot({ path: process.env.EAKTE_SCREENSHOT, fullPage: true })
    step(`screenshot ${process.env.EAKTE_SCREENSHOT}`)
  }
  assertNoPageErrors()
  console.log('E2E OK')
} catch (err) {
  console.error(err.stack || String(err))
  reportPageErrors()
  process.exitCode = 1
} finally {
  await browser.close()
}
