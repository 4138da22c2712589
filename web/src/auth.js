// Sign-in: demo users in dev mode, OIDC authorization code + PKCE in production.
import { UserManager, WebStorageStateStore } from 'oidc-client-ts'
import { roleLabels } from './i18n.js'
import { h, clear, notice } from './dom.js'

const KEY = 'eakte.session'
let current = null
let onChange = () => {}

export function session () {
  if (current) return current
  try {
    current = JSON.parse(sessionStorage.getItem(KEY))
  } catch {
    current = null
  }
  if (current && current.expires_at && Date.now() > current.expires_at) current = null
  return current
}

export function onSessionChange (fn) { onChange = fn }

function store (value, { quiet = false } = {}) {
  current = value
  if (value) sessionStorage.setItem(KEY, JSON.stringify(value))
  else sessionStorage.removeItem(KEY)
  if (!quiet) onChange(value)
}

// A fresh token for the same user without leaving the page (the co-editing socket closes
// with 4401 when its token expires and reconnects with this one; the Y.Doc keeps local edits).
// Dev mode signs in again as the same demo user; OIDC renews with the refresh token through
// oidc-client-ts (which also renews on its own before the token expires). Returns null when
// that is not possible (then the user has to sign in again).
export async function renewToken () {
  let saved = current
  if (!saved) {
    try { saved = JSON.parse(sessionStorage.getItem(KEY)) } catch { saved = null }
  }
  if (!saved) return null
  try {
    if (saved.dev) {
      const body = await devToken(saved.dev.tenant, saved.dev.user)
      store({ ...saved, token: body.token, expires_at: Date.now() + body.expires_in * 1000 }, { quiet: true })
      return body.token
    }
    if (saved.oidc && manager) {
      const user = await manager.signinSilent()
      return user ? user.access_token : null
    }
  } catch {
    return null
  }
  return null
}

// Ends the session here; for OIDC also at the identity provider (end_session_endpoint), so
// that on a shared office PC the next person is not signed straight back in.
export async function signOut (message) {
  if (message) sessionStorage.setItem('eakte.message', message)
  const wasOidc = !!(current && current.oidc)
  store(null, { quiet: wasOidc && !message })
  if (wasOidc && manager && !message) {
    try {
      await manager.signoutRedirect()
      return
    } catch (err) {
      sessionStorage.setItem('eakte.message', `Abmelden beim Identitätsanbieter fehlgeschlagen: ${err.message}`)
      onChange(null)
    }
  }
  if (manager) await manager.removeUser().catch(() => {})
}

export function hasRole (...roles) {
  const s = session()
  return !!s && s.roles.some((r) => roles.includes(r))
}

export function canWrite () { return hasRole('clerk', 'approver', 'admin') }

async function me (token) {
  const r = await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } })
  if (!r.ok) throw new Error(`Anmeldung nicht akzeptiert (HTTP ${r.status})`)
  return r.json()
}

// ---- dev mode -------------------------------------------------------------

async function devToken (tenant, user) {
  const r = await fetch('/app/dev-login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ tenant, user })
  })
  if (!r.ok) throw new Error(`Anmeldung fehlgeschlagen (HTTP ${r.status})`)
  return r.json()
}

async function devLogin (tenant, user) {
  const body = await devToken(tenant, user)
  store({
    dev: { tenant, user },
    token: body.token,
    name: body.name,
    tenant: body.tenant,
    sub: body.sub,
    roles: body.roles,
    expires_at: Date.now() + body.expires_in * 1000
  })
}

// ---- OIDC (authorization code flow with PKCE, via oidc-client-ts) --------

let manager = null

function oidcManager (oidc) {
  if (manager) return manager
  manager = new UserManager({
    authority: oidc.issuer,
    client_id: oidc.client_id,
    redirect_uri: `${location.origin}/app/`,
    post_logout_redirect_uri: `${location.origin}/app/`,
    response_type: 'code',
    scope: oidc.scope,
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    stateStore: new WebStorageStateStore({ store: sessionStorage }),
    automaticSilentRenew: true, // with a refresh token: a token grant, no iframe
    loadUserInfo: false,
    monitorSession: false
  })
  manager.events.addUserLoaded((user) => {
    // renewed in the background: the next request and the next socket use the new token
    if (current && current.oidc) {
      store({ ...current, token: user.access_token, expires_at: user.expires_at * 1000 }, { quiet: true })
    }
  })
  manager.events.addSilentRenewError(() => {
    if (current && current.oidc) signOut('Die Anmeldung konnte nicht verlängert werden. Bitte neu anmelden.')
  })
  return manager
}

function claimsOf (jwt) {
  const part = (jwt || '').split('.')[1] || ''
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'))
  return JSON.parse(decodeURIComponent(escape(json)))
}

async function oidcStart (oidc) {
  await oidcManager(oidc).signinRedirect({ url_state: location.pathname })
}

// Completes the flow when the provider redirected back with ?code=…&state=… (or after the
// logout at the provider with ?state=…). Checks the issuer of the response (RFC 9207 `iss`,
// a defence against mix-up attacks) and of the ID token: oidc-client-ts checks neither.
export async function oidcCallback (config) {
  const params = new URLSearchParams(location.search)
  if (!config.oidc) return null
  const users = oidcManager(config.oidc)
  if (!params.has('state')) return null // a page load in a running session
  const url = location.href
  history.replaceState(null, '', '/app/')
  if (!params.has('code') && !params.has('error')) {
    await users.signoutCallback(url).catch(() => {})
    return null
  }
  const meta = await users.metadataService.getMetadata()
  const expected = config.oidc.issuer
  if (params.has('iss') ? params.get('iss') !== expected : meta.authorization_response_iss_parameter_supported) {
    throw new Error(`Anmeldung ungültig: die Antwort kommt nicht vom Identitätsanbieter ${expected}`)
  }
  const user = await users.signinCallback(url)
  const idToken = claimsOf(user.id_token)
  if (idToken.iss !== expected || ![].concat(idToken.aud).includes(config.oidc.client_id)) {
    await users.removeUser()
    throw new Error('Anmeldung ungültig: das ID-Token stammt von einem anderen Aussteller')
  }
  const who = await me(user.access_token)
  store({
    token: user.access_token,
    name: who.name,
    tenant: who.tenant,
    sub: who.sub,
    roles: who.roles,
    oidc: { client_id: config.oidc.client_id },
    expires_at: user.expires_at * 1000
  })
  const back = user.url_state
  if (back && back.startsWith('/app/')) history.replaceState(null, '', back)
  return true
}

// ---- the sign-in page -----------------------------------------------------

export function renderSignIn (root, config) {
  const status = h('div')
  const message = sessionStorage.getItem('eakte.message')
  sessionStorage.removeItem('eakte.message')
  if (message) notice(status, 'warn', message)
  const run = async (fn) => {
    notice(status, 'info', 'Anmeldung läuft …')
    try { await fn() } catch (err) { notice(status, 'error', err.message) }
  }
  const parts = [h('h1', 'Anmelden'), status]
  if (config.oidc) {
    parts.push(h('p', h('button.primary', { id: 'oidc-login', onclick: () => run(() => oidcStart(config.oidc)) }, 'Mit Dienstkonto anmelden')))
  }
  if (config.dev_login) {
    const tenants = [...new Map(config.demo_users.map((u) => [u.tenant, u.tenant_name])).entries()]
    const tenant = h('select', { id: 'dev-tenant', name: 'tenant' }, tenants.map(([slug, name]) => h('option', { value: slug }, name)))
    const user = h('select', { id: 'dev-user', name: 'user' },
      config.demo_users.filter((u) => u.tenant === tenants[0][0])
        .map((u) => h('option', { value: u.user }, `${u.name} – ${roleLabels(u.roles)}`)))
    parts.push(
      h('form.card', {
        id: 'dev-login',
        onsubmit: (e) => { e.preventDefault(); run(() => devLogin(tenant.value, user.value)) }
      },
      h('h2', 'Entwicklungsmodus: Demo-Benutzer'),
      h('p.muted', 'Nur im Entwicklungsmodus verfügbar. In Produktion meldet man sich über den Identitätsanbieter (OIDC) an.'),
      h('label', 'Behörde', tenant),
      h('label', 'Benutzer', user),
      h('button.primary', { type: 'submit' }, 'Anmelden'))
    )
  }
  if (!config.oidc && !config.dev_login) {
    parts.push(h('p.notice.error', 'Keine Anmeldung konfiguriert: EAKTE_OIDC_ISSUER und EAKTE_OIDC_CLIENT_ID setzen.'))
  }
  clear(root, h('main.narrow', parts))
}
