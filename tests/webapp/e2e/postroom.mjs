// Issue 13: the Poststelle in the browser: make the day's print batch, see its letters, download
// the PDF, and confirm the posting only after a second, explicit step (it starts the
// Bekanntgabe of every letter, Art. 41 Abs. 2 BayVwVfG).
// Usage: EAKTE_BASE_URL=… EAKTE_FILE_NUMBER=BA-… node postroom.mjs
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { base, step, launch, openPage, devSignIn, assertNoPageErrors, reportPageErrors } from './lib.mjs'

const fileNumber = process.env.EAKTE_FILE_NUMBER
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const browser = await launch()

try {
  const page = await openPage(browser, 'postroom')
  await devSignIn(page, 'postroom')
  await page.waitForSelector('h1:has-text("Poststelle")')
  await page.waitForSelector('#nav-postroom')
  if (await page.locator('#nav-cases').count()) throw new Error('the post room is offered the case list')
  step('the Poststelle signs in and lands on its page')

  await page.click('#batch-create button[type=submit]')
  await page.waitForSelector('#postroom-status:has-text("1 Schreiben")')
  const card = page.locator('.card.batch').first()
  await card.locator('.badge:has-text("noch nicht zur Post gegeben")').waitFor()
  await card.locator('button.show-letters').click()
  await card.locator(`table.letters td:has-text("${fileNumber}")`).waitFor()
  await card.locator('table.letters td:has-text("Eingangsbestätigung")').waitFor()
  step('batch made; its letter listed with file number and type')

  const [download] = await Promise.all([page.waitForEvent('download'), card.locator('button.download').click()])
  const pdf = readFileSync(await download.path())
  if (pdf.subarray(0, 5).toString() !== '%PDF-') throw new Error('the download is not a PDF')
  step(`PDF downloaded (${download.suggestedFilename()}, ${pdf.length} bytes)`)

  await card.locator('button.confirm-posted').click()
  await card.locator('form.posted-form p:has-text("Art. 41 Abs. 2 BayVwVfG")').waitFor()
  await card.locator('form.posted-form button:has-text("Abbrechen")').click()
  if (await card.getAttribute('data-posted') !== 'no') throw new Error('cancel recorded a posting')
  await card.locator('button.confirm-posted').click()
  await page.evaluate(axeSource)
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }))
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  if (bad.length) throw new Error('axe on Poststelle: ' + bad.map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`).join('; '))
  step(`axe Poststelle: ${result.passes.length} rules passed, 0 serious/critical`)
  await card.locator('form.posted-form button[type=submit]').click()
  await page.waitForSelector('#postroom-status:has-text("zur Post gegeben erfasst")')
  const posted = page.locator('.card.batch[data-posted=yes]').first()
  await posted.locator('.badge:has-text("zur Post gegeben am")').waitFor()
  await posted.locator('button.show-letters').click()
  await posted.locator('table.letters td:has-text("am ")').waitFor()
  step('posting confirmed; the letter shows its Bekanntgabe date')

  assertNoPageErrors()
  console.log('E2E POSTROOM OK')
} catch (err) {
  console.error(err.stack || String(err))
  reportPageErrors()
  process.exitCode = 1
} finally {
  await browser.close()
}
