// Entry: sign-in, header, client-side routes (/app/ and /app/cases/<id>).
import './style.css'
import { h, clear } from './dom.js'
import { session, signOut, onSessionChange, renderSignIn, oidcCallback } from './auth.js'
import { renderCaseList } from './cases.js'
import { renderCase } from './case.js'

const root = document.getElementById('app')
let config = null
let cleanup = null

export function navigate (path) {
  history.pushState(null, '', path)
  route()
}

function header (s) {
  return h('header.top',
    h('a.brand', { href: '/app/', onclick: (e) => { e.preventDefault(); navigate('/app/') } }, 'E-Akte Bau'),
    h('span.muted', s.tenant),
    h('span.spacer'),
    h('span#whoami', `${s.name} (${s.roles.join(', ')})`),
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
