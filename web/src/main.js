// Entry: sign-in, header, client-side routes (/app/ and /app/cases/<id>).
import './style.css'
import { h, clear } from './dom.js'
import { session, signOut, onSessionChange, renderSignIn, oidcCallback, hasRole } from './auth.js'
import { api } from './api.js'
import { renderCaseList } from './cases.js'
import { renderCase } from './case.js'
import { renderMyCases, renderSigning } from './work.js'
import { renderDeadlines } from './deadlines.js'
import { notificationBell } from './notifications.js'
import { renderAgencyCase } from './participation.js'
import { renderPostroom } from './postroom.js'
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

const official = () => hasRole('clerk', 'approver', 'auditor', 'admin')
const link = (path, text, id) => h('a.nav', {
  href: path, id, 'aria-current': location.pathname === path ? 'page' : null, onclick: (e) => { e.preventDefault(); navigate(path) }
}, text)
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
    official()
      ? h('nav.work',
        hasRole('clerk', 'admin') ? link('/app/', 'Meine Vorgänge', 'nav-mine') : null,
        hasRole('approver') ? link(hasRole('clerk', 'admin') ? '/app/signing' : '/app/', 'Zur Zeichnung', 'nav-signing') : null,
        link('/app/deadlines', 'Fristen', 'nav-deadlines'),
        link(hasRole('clerk', 'admin', 'approver') ? '/app/cases' : '/app/', 'Alle Vorgänge', 'nav-cases'),
        hasRole('postroom', 'admin') ? link('/app/postroom', 'Poststelle', 'nav-postroom') : null)
      : hasRole('postroom') ? h('nav.work', link('/app/postroom', 'Poststelle', 'nav-postroom')) : null,
    h('span.spacer'),
    official() ? notificationBell(navigate) : null,
    h('span#whoami', `${s.name} (${roleLabels(s.roles)})`),
    h('button.link', { id: 'logout', onclick: () => signOut() }, 'Abmelden'))
}

function route () {
  if (cleanup) { cleanup(); cleanup = null }
  const s = session()
  if (!s) return renderSignIn(root, config)
  announce(s)
  const main = h('main')
  clear(root, header(s), main)
  const match = location.pathname.match(/^\/app\/cases\/([0-9a-f-]{36})\/?$/)
  const path = location.pathname.replace(/\/$/, '')
  if (hasRole('postroom', 'admin') && (path === '/app/postroom' || (!official() && !match))) renderPostroom(main)
  else if (match && !official()) renderAgencyCase(main, match[1], navigate)
  else if (match) cleanup = renderCase(main, match[1], navigate)
  else if (path === '/app/deadlines' && official()) renderDeadlines(main, navigate)
  else if (path === '/app/signing' && official()) renderSigning(main, navigate)
  else if (path === '/app/cases' || !official()) renderCaseList(main, navigate)
  else if (hasRole('clerk', 'admin')) renderMyCases(main, navigate)
  else if (hasRole('approver')) renderSigning(main, navigate)
  else renderCaseList(main, navigate)
}

// enter the signed-in official in the authority's directory (pickers for assignment and
// Beteiligung show colleagues and agencies by name); once per session
let announced = null
function announce (s) {
  if (!s || announced === s.token) return
  announced = s.token
  api('/api/v1/directory/me', { method: 'PUT' }).catch(() => { announced = null })
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
