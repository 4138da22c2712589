// Shared set-up of the browser tests: one Chromium, pages that collect page errors and CSP
// refusals, the development sign-in. Every wait is a bound, never a measurement: on a loaded
// CI machine the pages get EAKTE_E2E_TIMEOUT_MS (default 60 s) before a step counts as failed.
import { chromium } from 'playwright-core'

export const base = process.env.EAKTE_BASE_URL
export const TIMEOUT = Number(process.env.EAKTE_E2E_TIMEOUT_MS || 60000)
export const step = (text) => console.log(`- ${text}`)
export const errors = []

export function launch () {
  return chromium.launch({
    executablePath: process.env.EAKTE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
}

// A page in its own context (its own session storage, i.e. its own signed-in official).
// `ignore`: console errors matching it are not counted (e.g. a CDN the page must not reach).
export async function openPage (browser, label, { width = 1400, height = 1000, locale = 'de-DE', timeout = TIMEOUT, ignore = null } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale })
  const page = await context.newPage()
  page.setDefaultTimeout(timeout)
  page.on('pageerror', (err) => errors.push(`${label}: ${err.message}`))
  page.on('console', (msg) => {
    const text = msg.text()
    if (msg.type() === 'error' && /Content Security Policy|Refused to/.test(text) && !(ignore && ignore.test(text))) errors.push(`${label}: ${text}`)
  })
  return page
}

// The development sign-in form of /app/ (demo users of `eakte seed-demo`)
export async function devSignIn (page, user, tenant = 'augsburg') {
  await page.goto(`${base}/app/`)
  await page.selectOption('#dev-tenant', tenant)
  await page.selectOption('#dev-user', user)
  await page.click('#dev-login button[type=submit]')
  await page.waitForSelector('#whoami')
}

// From the start page ("Meine Vorgänge" / "Zur Zeichnung", issue 16) to a case through the list
export async function openFromList (page, fileNumber) {
  await page.click('#nav-cases')
  await page.fill('#search', fileNumber)
  await page.locator('table.list tbody tr', { hasText: fileNumber }).click()
}

// Throws when a page reported an error; the script's `catch` prints them
export function assertNoPageErrors () {
  if (errors.length) throw new Error('errors in the pages:\n' + errors.join('\n'))
}

export function reportPageErrors () {
  if (errors.length) console.error('page errors:\n' + errors.join('\n'))
}
