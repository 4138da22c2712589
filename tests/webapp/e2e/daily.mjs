// Issue 16 (part 2) in headless Chromium: PDF and image preview, retitle and withdraw a document,
// the history in German, named versions, co-edited field validation and projection, German
// labels and messages, no sideways scrolling at 390 px, and an axe-core scan of each page.
// Usage: EAKTE_BASE_URL=http://127.0.0.1:8000 EAKTE_ARTIFACTS=dir node daily.mjs
import { base, step, launch, openPage, devSignIn, assertNoPageErrors, reportPageErrors } from './lib.mjs'
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const artifacts = process.env.EAKTE_ARTIFACTS
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
if (artifacts) mkdirSync(artifacts, { recursive: true })

// A one-page PDF with a blue box and a line of text (xref offsets computed, so pdf.js is happy)
function samplePdf (text) {
  const stream = `0 0.36 0.68 rg 60 600 300 120 re f BT /F1 24 Tf 60 560 Td (${text}) Tj ET`
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'
  ]
  let out = '%PDF-1.4\n'
  const offsets = []
  objects.forEach((body, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${body}\nendobj\n` })
  const xref = out.length
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  out += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(out, 'latin1')
}
// 2×2 PNG (red)
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAwMDAwMAAAB8AA/2QHRLGAAAAAElFTkSuQmCC', 'base64')

const browser = await launch()
const scans = []

async function open (label, width = 1440) {
  // English browser: the app's own messages must still be German
  const page = await openPage(browser, label, { width, locale: 'en-US', ignore: /cdn\.redoc\.ly/ })
  page.on('dialog', (d) => d.accept())
  return page
}

async function signIn (page, user) {
  await page.goto(`${base}/app/`)
  await axeScan(page, 'Anmeldung')
  await devSignIn(page, user)
  await page.click('#nav-cases') // the start page is "Meine Vorgänge" (issue 16); this script works on the list
  await page.waitForSelector('#search')
}

// axe-core (WCAG 2.0/2.1 A and AA): no serious or critical violation on the page
async function axeScan (page, name) {
  await page.evaluate(axeSource) // evaluated by the browser's devtools, not a page script
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }))
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  scans.push(`${name}: ${result.passes.length} rules passed, ${result.violations.length} violations (${bad.length} serious/critical)`)
  if (bad.length) {
    throw new Error(`axe on ${name}: ` + bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} [${n.failureSummary.replace(/\s+/g, ' ')}]`).join(', ')}`).join('; '))
  }
}

async function noSidewaysScroll (page, name) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }))
  if (scroll > width) {
    // name the outermost elements that stick out, so a failure says where to look
    const culprits = await page.evaluate((w) => [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > w + 1 && !(el.parentElement && el.parentElement.getBoundingClientRect().right > w + 1))
      .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} (${Math.round(el.getBoundingClientRect().width)} px)`), width)
    throw new Error(`${name}: ${scroll} px wide at a ${width} px viewport (scrolls sideways): ${culprits.join(', ')}`)
  }
}

async function shot (page, name) {
  if (artifacts) await page.screenshot({ path: join(artifacts, name), fullPage: true })
}

const apiGet = (page, path) => page.evaluate(async (p) => {
  const s = JSON.parse(sessionStorage.getItem('eakte.session'))
  const r = await fetch(p, { headers: { Authorization: `Bearer ${s.token}` } })
  return r.json()
}, path)

try {
  const a = await open('clerk')
  await signIn(a, 'clerk')
  const who = await a.textContent('#whoami')
  if (!who.includes('(Sachbearbeitung)')) throw new Error(`role not in German: ${who}`)
  await a.waitForFunction(() => document.querySelector('#tenant-name').textContent.includes('Stadt Augsburg – Bauordnungsamt'))
  step(`header: ${who} · ${await a.textContent('#tenant-name')}`)

  // German validation messages even in an English-speaking browser
  await a.waitForFunction(() => document.querySelectorAll('#filter-procedure option').length > 1)
  await a.click('#new-case')
  const options = await a.locator('#create-case [name=procedure] option').allTextContents()
  if (!options.includes('Vereinfachtes Baugenehmigungsverfahren (Art. 59 BayBO)')) throw new Error(`procedure labels: ${options}`)
  await a.click('#create-case button[type=submit]')
  // the form checks its required fields itself and names them in German (issue 16)
  await a.waitForSelector('text=Bitte ausfüllen: Vorhaben')
  await a.fill('#create-case [name=applicant_email]', 'kein-email')
  await a.fill('#create-case [name=title]', 'Neubau Wohnhaus mit Garage')
  await a.fill('#create-case [name=address]', 'Maximilianstraße 1, 86150 Augsburg')
  await a.fill('#create-case [name=applicant_name]', 'Maria Muster')
  await a.click('#create-case button[type=submit]')
  const emailMessage = await a.evaluate(() => document.querySelector('#create-case [name=applicant_email]').validationMessage)
  if (!emailMessage.startsWith('Bitte eine gültige E-Mail-Adresse')) throw new Error(`e-mail message: ${emailMessage}`)
  step(`validation in German: "${emailMessage}"`)
  await a.fill('#create-case [name=applicant_email]', 'maria@example.org')
  await a.click('#create-case button[type=submit]')
  await a.waitForURL(/\/app\/cases\/[0-9a-f-]{36}$/)
  await a.waitForSelector('#connection.connected')
  const caseId = a.url().split('/').pop()
  const fileNumber = (await a.textContent('#file-number')).trim()
  const procedure = await a.textContent('#case-procedure')
  if (procedure !== 'Vereinfachtes Baugenehmigungsverfahren (Art. 59 BayBO)') throw new Error(`procedure shown as ${procedure}`)
  step(`case ${fileNumber}: ${procedure}`)

  // documents: PDF preview with pdf.js (worker from /app/assets), image preview
  await a.selectOption('#upload-kind', 'lageplan')
  await a.fill('#upload-title', 'Lageplan M 1:500')
  await a.setInputFiles('#upload-file', { name: 'lageplan.pdf', mimeType: 'application/pdf', buffer: samplePdf('Lageplan M 1:500') })
  await a.waitForSelector('#document-list .doc-title:has-text("Lageplan M 1:500")')
  await a.selectOption('#upload-kind', 'bauzeichnung')
  await a.fill('#upload-title', 'Ansicht Süd')
  await a.setInputFiles('#upload-file', { name: 'ansicht.png', mimeType: 'image/png', buffer: PNG })
  await a.waitForSelector('#document-list .doc-title:has-text("Ansicht Süd")')
  await a.locator('#document-list button.doc-title', { hasText: 'Lageplan M 1:500' }).focus()
  await a.keyboard.press('Enter') // keyboard operable
  await a.waitForSelector('#preview-stage[data-rendered="1"] canvas')
  const inked = await a.evaluate(() => {
    const c = document.querySelector('#preview-stage canvas')
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
    let n = 0
    for (let i = 0; i < data.length; i += 4) if (data[i] < 100 && data[i + 2] > 120) n++
    return n
  })
  if (inked < 1000) throw new Error(`the PDF page was not drawn (${inked} blue pixels)`)
  const pageLabel = await a.textContent('#preview-page')
  await axeScan(a, 'Vorschau (PDF)')
  await shot(a, 'preview-1440.png')
  await a.keyboard.press('Escape')
  await a.waitForSelector('#preview', { state: 'detached' })
  step(`PDF preview drawn in the page (${inked} blue pixels, "${pageLabel}"), closed with Esc`)
  await a.locator('#document-list li.doc', { hasText: 'Ansicht Süd' }).locator('button:has-text("Vorschau")').click()
  await a.waitForSelector('#preview-stage[data-rendered="image"] img.preview-image')
  await a.click('#preview-close')
  step('image preview shown')

  // a rejected upload: German problem title from the server (Accept-Language: de)
  await a.setInputFiles('#upload-file', { name: 'bild.pdf', mimeType: 'application/pdf', buffer: Buffer.from('nur Text, kein PDF\n') })
  await a.waitForSelector('#upload-status .notice.error')
  const rejected = await a.textContent('#upload-status')
  if (!rejected.includes("Der Inhalt der Datei passt nicht zu ihrer Dateiendung") || !rejected.includes("Die Datei heißt *.pdf, ihr Inhalt ist aber text/plain")) throw new Error(`rejection: ${rejected}`)
  step(`rejected upload: ${rejected.trim()}`)

  // retitle and change kind, then withdraw with a reason: stays listed, marked
  const png = a.locator('#document-list li.doc', { hasText: 'Ansicht Süd' })
  await png.locator('button:has-text("Bearbeiten")').click()
  await png.locator('form.edit [name=title]').fill('Ansicht Süd (Entwurf)')
  await png.locator('form.edit [name=kind]').selectOption('sonstiges')
  await png.locator('form.edit button[type=submit]').click()
  await a.waitForSelector('#document-list li.doc:has-text("Ansicht Süd (Entwurf)") .badge:has-text("Sonstiges")')
  const renamed = a.locator('#document-list li.doc', { hasText: 'Ansicht Süd (Entwurf)' })
  await renamed.locator('button:has-text("Zurückziehen")').click()
  await renamed.locator('form.withdraw button[type=submit]').click()
  const reasonMessage = await renamed.locator('form.withdraw [name=reason]').evaluate((el) => el.validationMessage)
  if (reasonMessage !== 'Bitte ausfüllen.') throw new Error(`reason message: ${reasonMessage}`)
  await renamed.locator('form.withdraw [name=reason]').fill('falsche Ansicht hochgeladen')
  await renamed.locator('form.withdraw button[type=submit]').click()
  await a.waitForSelector('#document-list li.doc.withdrawn:has-text("falsche Ansicht hochgeladen") .withdrawn-badge')
  step('document retitled, reclassified and withdrawn; it stays in the list, marked, with its reason')

  await a.click('#document-list li.doc:has-text("Lageplan M 1:500") button:has-text("Versionen")')
  await a.waitForSelector('#document-list table.versions td:has-text("v1")')
  const fits = await a.evaluate(() => {
    const wrap = document.querySelector('#document-list .table-wrap')
    return wrap.scrollWidth <= wrap.clientWidth + 1
  })
  if (!fits) throw new Error('the versions table overflows its card')
  step('versions table with author and date fits its card')

  // co-edited fields: the server's reason shows; a renamed applicant reaches header, record, search
  await a.fill('#field-applicant_email', 'kein-email')
  await a.waitForFunction(() => document.querySelector('#field-applicant_email-error').textContent.includes('keine gültige E-Mail-Adresse'))
  if (await a.getAttribute('#field-applicant_email', 'aria-invalid') !== 'true') throw new Error('field not marked invalid')
  await a.fill('#field-applicant_name', 'Zacharias Quellmalz')
  await a.waitForFunction(() => document.querySelector('#case-applicant').textContent === 'Zacharias Quellmalz')
  let record
  for (let i = 0; i < 100; i++) {
    record = await apiGet(a, `/api/v1/cases/${caseId}`)
    if (record.applicant.name === 'Zacharias Quellmalz') break
    await a.waitForTimeout(100)
  }
  if (record.applicant.name !== 'Zacharias Quellmalz' || record.applicant.email !== 'maria@example.org') throw new Error(`record: ${JSON.stringify(record.applicant)}`)
  await a.fill('#field-applicant_email', 'zq@example.org')
  await a.waitForFunction(() => document.querySelector('#field-applicant_email').getAttribute('aria-invalid') === 'false')
  step(`field shows "${(await a.textContent('#field-applicant_email-error')) || 'kein Fehler'}" after the fix; record applicant ${record.applicant.name}`)

  // the Vermerk shows who wrote last and when
  await a.click('#notes-editor .cm-content')
  await a.keyboard.type('Ortstermin vereinbart.')
  await a.waitForFunction(() => document.querySelector('#notes-lastedit').textContent.startsWith('Zuletzt bearbeitet von Sachbearbeitung (Demo) am '))
  step(await a.textContent('#notes-lastedit'))

  // history in German and named versions (create, view, restore)
  await a.click('#history-reload')
  await a.waitForSelector('#case-history li:has-text("zurückgezogen (Grund: falsche Ansicht hochgeladen)")')
  await a.waitForSelector('#case-history li:has-text("umbenannt von „Ansicht Süd“ in „Ansicht Süd (Entwurf)“")')
  const history = await a.textContent('#case-history')
  if (/\b(case|document|process|workspace|participation|issuing|application)\.[a-z_]+|Eintrag „/.test(history)) throw new Error(`ids in the history: ${history}`)
  await a.fill('#version-name', 'Stand vor Ortstermin')
  await a.click('#version-create button[type=submit]')
  await a.waitForSelector('#workspace-versions li:has-text("Stand vor Ortstermin")')
  await a.click('#notes-editor .cm-content')
  await a.keyboard.press('End')
  await a.keyboard.type(' Nachtrag danach.')
  await a.click('#workspace-versions li:has-text("Stand vor Ortstermin") button:has-text("Ansehen")')
  await a.waitForSelector('#version-view pre:has-text("Ortstermin vereinbart.")')
  await axeScan(a, 'Version ansehen')
  await a.keyboard.press('Escape')
  await a.click('#workspace-versions li:has-text("Stand vor Ortstermin") button:has-text("Wiederherstellen")')
  await a.waitForSelector('#history-status .notice.ok')
  await a.waitForFunction(() => !document.querySelector('#notes-editor .cm-content').innerText.includes('Nachtrag danach'))
  await a.click('#history-reload')
  await a.waitForSelector('#case-history li:has-text("als Version „Stand vor Ortstermin“ gesichert")')
  const later = await a.textContent('#case-history')
  if (/Eintrag „|@augsburg|\b(workspace|case|document)\.[a-z_]+/.test(later)) throw new Error(`ids or subjects in the history: ${later}`)
  step('history in German; named version created, viewed and restored as a new edit')
  const transitions = await a.textContent('#transitions')
  if (/→ [a-z]+_[a-z_]+/.test(transitions)) throw new Error(`state ids in the procedure history: ${transitions}`)

  await axeScan(a, 'Vorgang')
  await noSidewaysScroll(a, 'Vorgang 1440')
  await shot(a, 'case-1440.png')
  await a.click('a.back')
  await a.click('#nav-cases')
  await a.fill('#search', 'Quellmalz')
  await a.waitForSelector(`table.list tbody tr:has-text("${fileNumber}")`)
  const rowText = await a.textContent(`table.list tbody tr:has-text("${fileNumber}")`)
  if (!rowText.includes('Zacharias Quellmalz') || !rowText.includes('Vereinfachtes Baugenehmigungsverfahren')) throw new Error(`row: ${rowText}`)
  step('search finds the renamed applicant; the list names the procedure')
  await axeScan(a, 'Vorgänge')
  await shot(a, 'list-1440.png')

  // 390 px (phone) and 1920 px: no sideways scrolling on the list and the case page
  for (const width of [390, 1920]) {
    const p = await open(`clerk-${width}`, width)
    await signIn(p, 'clerk')
    await p.fill('#search', fileNumber)
    await p.waitForSelector(`table.list tbody tr:has-text("${fileNumber}")`)
    await noSidewaysScroll(p, `Vorgänge ${width}`)
    if (width === 390) { await axeScan(p, 'Vorgänge 390'); await shot(p, 'list-390.png') }
    await p.click(`table.list tbody tr:has-text("${fileNumber}") a`)
    await p.waitForSelector('#connection.connected')
    await p.waitForSelector('#document-list li.doc')
    await p.click('#document-list li.doc:has-text("Lageplan M 1:500") button:has-text("Versionen")')
    await p.waitForSelector('#document-list table.versions')
    await noSidewaysScroll(p, `Vorgang ${width}`)
    if (width === 390) { await axeScan(p, 'Vorgang 390'); await shot(p, 'case-390.png') }
    await p.context().close()
  }
  step('no sideways scrolling at 390 px and 1920 px')

  // /redoc and /docs render from bundled assets under their CSP
  const d = await open('docs')
  await d.goto(`${base}/redoc`)
  await d.waitForSelector('#redoc h1')
  await d.goto(`${base}/docs`)
  await d.waitForSelector('#swagger-ui .info .title')
  step(`/redoc and /docs render without a CDN ("${(await d.textContent('#swagger-ui .info .title')).trim().slice(0, 40)}")`)

  for (const line of scans) step(`axe ${line}`)
  assertNoPageErrors()
  console.log('DAILY E2E OK')
} catch (err) {
  console.error(err.stack || String(err))
  for (const line of scans) console.error(`axe ${line}`)
  reportPageErrors()
  process.exitCode = 1
} finally {
  await browser.close()
}
