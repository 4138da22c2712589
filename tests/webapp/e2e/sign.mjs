// Issue 13: "zeichnen" asks first, with the decision's PDF; cancel changes nothing, confirm signs.
// Usage: EAKTE_BASE_URL=… EAKTE_FILE_NUMBER=BA-… node sign.mjs
import { chromium } from 'playwright-core'

const base = process.env.EAKTE_BASE_URL
const fileNumber = process.env.EAKTE_FILE_NUMBER
const TIMEOUT = 15000
const step = (text) => console.log(`- ${text}`)

const browser = await chromium.launch({
  executablePath: process.env.EAKTE_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync']
})
const errors = []

async function open (label, user) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'de-DE' })
  const page = await context.newPage()
  page.setDefaultTimeout(TIMEOUT)
  page.on('pageerror', (err) => errors.push(`${label}: ${err.message}`))
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/.test(msg.text())) errors.push(`${label}: ${msg.text()}`)
  })
  await page.goto(`${base}/app/`)
  await page.selectOption('#dev-tenant', 'augsburg')
  await page.selectOption('#dev-user', user)
  await page.click('#dev-login button[type=submit]')
  await page.waitForSelector('#whoami')
  await page.click('#nav-cases') // the start page is "Meine Vorgänge" / "Zur Zeichnung" (issue 16)
  await page.fill('#search', fileNumber)
  await page.locator('table.list tbody tr', { hasText: fileNumber }).click()
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

  if (errors.length) throw new Error('errors in the pages:\n' + errors.join('\n'))
  console.log('E2E SIGN OK')
} catch (err) {
  console.error(err.stack || String(err))
  if (errors.length) console.error('page errors:\n' + errors.join('\n'))
  process.exitCode = 1
} finally {
  await browser.close()
}
