// Browser sign-in against a real OpenID Connect provider (node oidc-provider, tests/oidc):
// authorization code + PKCE through oidc-client-ts, token refresh without a reload, logout at
// the provider (end_session_endpoint), and a mix-up attempt (response with another `iss`).
// Usage: EAKTE_BASE_URL=… EAKTE_OIDC_ISSUER=… node oidc.mjs
import { base, step, launch, openPage, assertNoPageErrors, reportPageErrors } from './lib.mjs'

const issuer = process.env.EAKTE_OIDC_ISSUER
// the provider issues access tokens for 75 s; oidc-client-ts renews 60 s before expiry
const RENEWAL_TIMEOUT = 120000

const browser = await launch()

const open = (label) => openPage(browser, label, { width: 1200, height: 900 })

const atProvider = (url) => url.href.startsWith(issuer)

async function providerLogin (page, login) {
  await page.waitForURL(atProvider)
  await page.fill('input[name=login]', login)
  await page.fill('input[name=password]', 'beliebig')
  await page.click('button[type=submit]')
}

const sessionToken = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem('eakte.session') || 'null')?.token || null)

try {
  const page = await open('official')
  await page.goto(`${base}/app/`)
  await page.click('#oidc-login')
  await providerLogin(page, 'sachbearbeitung')
  await page.waitForSelector('#whoami')
  const who = await page.locator('#whoami').innerText()
  if (!who.includes('Erika Sachbearbeiterin')) throw new Error(`signed in as ${who}`)
  if (page.url() !== `${base}/app/`) throw new Error(`callback parameters left in the URL: ${page.url()}`)
  step(`signed in through the provider as ${who}`)

  const first = await sessionToken(page)
  await page.waitForFunction(
    (old) => { const s = JSON.parse(sessionStorage.getItem('eakte.session') || 'null'); return s && s.token && s.token !== old },
    first, { timeout: RENEWAL_TIMEOUT, polling: 500 })
  const renewed = await sessionToken(page)
  const status = await page.evaluate(async (token) => (await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } })).status, renewed)
  if (status !== 200) throw new Error(`renewed token answered ${status}`)
  await page.locator('#whoami').waitFor() // still signed in, no reload, no sign-in page
  step('access token renewed with the refresh token, without a reload; the API accepts it')

  await page.click('#logout')
  await page.waitForURL(atProvider)
  await page.click('button[name=logout][value=yes]')
  await page.waitForURL(`${base}/app/`)
  await page.waitForSelector('#oidc-login')
  await page.click('#oidc-login')
  await page.waitForURL(atProvider)
  await page.waitForSelector('input[name=login]')
  step('Abmelden ended the provider session: signing in again asks for the login')

  const victim = await open('mix-up')
  // the provider's redirect back to the app is rewritten to name another issuer, as a
  // mix-up attacker would (redirects themselves are not routed, so rewrite the provider's answer)
  // the provider's redirect back to the app is rewritten to name another issuer, as a
  // mix-up attacker would. Redirects are not routed, so the handler follows the provider's
  // own redirects itself (with the context's cookies) until the one that leaves for the app.
  await victim.route((url) => url.href.startsWith(issuer), async (route) => {
    let response = await route.fetch({ maxRedirects: 0 })
    for (let hop = 0; hop < 5; hop++) {
      const location = response.headers().location
      if (!location) break
      const next = new URL(location, route.request().url())
      if (!next.href.startsWith(issuer)) {
        if (!next.href.startsWith(`${base}/app/?`) || !next.searchParams.has('code')) break
        next.searchParams.set('iss', 'http://127.0.0.1:1/boeser-anbieter')
        return route.fulfill({ status: 302, headers: { location: next.href } })
      }
      response = await victim.request.get(next.href, { maxRedirects: 0 })
    }
    return route.fulfill({ response })
  })
  await victim.goto(`${base}/app/`)
  await victim.click('#oidc-login')
  await providerLogin(victim, 'sachbearbeitung')
  await victim.waitForURL(`${base}/app/`)
  const notice = victim.locator('.notice', { hasText: 'Anmeldung ungültig' })
  await notice.waitFor()
  const refusal = await notice.innerText()
  if (await victim.locator('#whoami').count()) throw new Error('signed in despite the foreign iss')
  if (await sessionToken(victim)) throw new Error('a session was stored despite the foreign iss')
  step(`a response naming another issuer is refused: ${refusal}`)

  assertNoPageErrors()
  console.log('OIDC E2E OK')
} finally {
  await browser.close()
}
