// Entry: sign-in, header, client-side routes (/app/ and /app/cases/<id>).
import './style.css'
import { h, clear } from './dom.js'
import { session, signOut, onSessionChange, renderSignIn, oidcCallback } from './auth.js'
import { renderCaseList } from './cases.js'
import { renderCase } from './case.js'
import { api } from './api.js'
import { installGermanValidation, roleLabels } from './i18n.js'

installGermanValidation()
// the authority's display name ("Stadt Augsburg – Bauordnungsamt"), asked once per sign-in
const tenantNames = new Map()

const root = document.getElementById('app')
let config = null
let cleanup = null

export function navigate (path) {
  history.pushState(null, '', path)
  route()
}

function tenantName (s) {
  const el = h('span.muted#tenant-name', tenantNames.get(s.token) || '')
  if (!tenantNames.has(s.token)) {
    api('/api/v1/me').then((me) => {
      tenantNames.set(s.token, me.tenant_name)
      el.textContent = me.tenant_name
    }).catch(() => { el.textContent = s.tenant })
  }
  return el
}

function header (s) {
  return h('header.top', { role: 'banner' },
    h('a.brand', { href: '/app/', onclick: (e) => { e.preventDefault(); navigate('/app/') } }, 'E-Akte Bau'),
    tenantName(s),
    h('span.spacer'),
    h('span#whoami', `${s.name} (${roleLabels(s.roles)})`),
    h('button.link', { id: 'logout', onclick: () => signOut() }, 'Abmelden'))
}

function route () {
  if (cleanup) { cleanup(); cleanup = null }
  const s = session()
  if (!s) return renderSignIn(root, config)
  const main = h('main')
  clear(root, header(s), main)
  const match = location.pathname.match(/^\/app\/cases\/([0-9a-f-]{36})\/?$/)
  if (match) cleanup = renderCase(main, match[1], navigate)
  else renderCaseList(main, navigate)
}

async function start () {
  try {
    config = await (await fetch('/app/config.json')).json()
    await oidcCallback(config)
  } catch (err) {
    config = config || { dev_login: false, demo_users: [], oidc: null }
    sessionStorage.setItem('eakte.message', err.message)
  }
  onSessionChange(() => route())
  window.addEventListener('popstate', route)
  route()
}

start()
