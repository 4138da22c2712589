// Issue 13: "zeichnen" asks first, with the decision's PDF; cancel changes nothing, confirm signs.
// Usage: EAKTE_BASE_URL=… EAKTE_FILE_NUMBER=BA-… node sign.mjs
import { base, step, launch, openPage, devSignIn, assertNoPageErrors, reportPageErrors, openFromList } from './lib.mjs'

const fileNumber = process.env.EAKTE_FILE_NUMBER

const browser = await launch()

async function open (label, user) {
  const page = await openPage(browser, label)
  await devSignIn(page, user)
  await openFromList(page, fileNumber)
  await page.waitForSelector('#process-state')
  return page
}

try {
  const clerk = await open('clerk', 'clerk')
  await clerk.waitForSelector('button.action.danger[data-action=ruecknahme_erklaeren]')
  step('the clerk sees "Rücknahme des Antrags" as a danger action')

  const page = await open('approver', 'approver')
  await page.waitForSelector('#process-state[data-state=zur_zeichnung]')
  const steps = await page.locator('#transitions li').count()
  const sign = 'button[data-action=genehmigung_zeichnen]:not([disabled])'
  await page.click(sign)
  await page.waitForSelector('dialog#confirm-action[open]')
  const text = await page.textContent('#confirm-text')
  if (!text.includes('Mit der Zeichnung wird die Baugenehmigung erteilt')) throw new Error(`dialog says: ${text}`)
  await page.waitForSelector('iframe#sign-preview[src^="blob:"]', { state: 'attached' })
  step(`dialog: ${text.trim()}`)
  await page.click('#confirm-cancel')
  await page.waitForSelector('dialog#confirm-action', { state: 'detached' })
  await page.waitForSelector('#process-status .notice:has-text("abgebrochen")')
  await page.click('#process-reload')
  await page.waitForSelector('#process-state[data-state=zur_zeichnung]')
  if ((await page.locator('#transitions li').count()) !== steps) throw new Error('cancel changed the procedure')
  step('cancel: nothing changed')

  await page.click(sign)
  await page.waitForSelector('dialog#confirm-action[open]')
  await page.waitForSelector('iframe#sign-preview[src^="blob:"]', { state: 'attached' })
  await page.click('#confirm-ok')
  await page.waitForSelector('#process-state[data-state=genehmigt]')
  await page.waitForSelector('#transitions li:has-text("Genehmigung zeichnen")')
  step('confirm: signed')

  assertNoPageErrors()
  console.log('E2E SIGN OK')
} catch (err) {
  console.error(err.stack || String(err))
  reportPageErrors()
  process.exitCode = 1
} finally {
  await browser.close()
}
