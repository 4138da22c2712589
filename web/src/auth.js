// Sign-in: demo users in dev mode, OIDC authorization code + PKCE in production.
import { h, clear, notice } from './dom.js'

const KEY = 'eakte.session'
const PKCE_KEY = 'eakte.pkce'
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
// Dev mode signs in again as the same demo user; OIDC uses the refresh token if the provider
// issued one. Returns null when that is not possible (then the user has to sign in again).
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
    if (saved.oidc && saved.refresh_token) {
      const r = await fetch(saved.oidc.token_endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: saved.refresh_token,
          client_id: saved.oidc.client_id
        })
      })
      if (!r.ok) return null
      const tokens = await r.json()
      store({
        ...saved,
        token: tokens.access_token,
        refresh_token: tokens.refresh_token || saved.refresh_token,
        expires_at: Date.now() + (tokens.expires_in || 300) * 1000
      }, { quiet: true })
      return tokens.access_token
    }
  } catch {
    return null
  }
  return null
}

export function signOut (message) {
  if (message) sessionStorage.setItem('eakte.message', message)
  store(null)
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

// ---- OIDC (authorization code flow with PKCE, RFC 7636) -------------------

function b64url (bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function randomString () {
  return b64url(crypto.getRandomValues(new Uint8Array(32)))
}

async function discovery (issuer) {
  const r = await fetch(issuer.replace(/\/$/, '') + '/.well-known/openid-configuration')
  if (!r.ok) throw new Error(`OIDC-Discovery fehlgeschlagen (HTTP ${r.status})`)
  return r.json()
}

const redirectUri = () => `${location.origin}/app/`

async function oidcStart (oidc) {
  const meta = await discovery(oidc.issuer)
  const verifier = randomString()
  const state = randomString()
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)))
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, back: location.pathname }))
  const url = new URL(meta.authorization_endpoint)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: oidc.client_id,
    redirect_uri: redirectUri(),
    scope: oidc.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256'
  })
  location.assign(url)
}

// Completes the flow when the provider redirected back with ?code=…&state=…
export async function oidcCallback (config) {
  const params = new URLSearchParams(location.search)
  if (!config.oidc || !params.has('state')) return null
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || 'null')
  sessionStorage.removeItem(PKCE_KEY)
  history.replaceState(null, '', (saved && saved.back) || '/app/')
  if (params.has('error')) throw new Error(`Anmeldung abgelehnt: ${params.get('error_description') || params.get('error')}`)
  if (!saved || saved.state !== params.get('state')) throw new Error('Anmeldung ungültig (state stimmt nicht überein)')
  const meta = await discovery(config.oidc.issuer)
  const r = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: redirectUri(),
      client_id: config.oidc.client_id,
      code_verifier: saved.verifier
    })
  })
  if (!r.ok) throw new Error(`Token-Abruf fehlgeschlagen (HTTP ${r.status})`)
  const tokens = await r.json()
  const who = await me(tokens.access_token)
  store({
    token: tokens.access_token,
    name: who.name,
    tenant: who.tenant,
    sub: who.sub,
    roles: who.roles,
    refresh_token: tokens.refresh_token || null,
    oidc: { token_endpoint: meta.token_endpoint, client_id: config.oidc.client_id },
    expires_at: Date.now() + (tokens.expires_in || 300) * 1000
  })
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
        .map((u) => h('option', { value: u.user }, `${u.name} – ${u.roles.join(', ')}`)))
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
