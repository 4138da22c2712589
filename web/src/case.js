// One case: live workspace (fields, Vermerk, decision, checklist, conditions), documents, procedure.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { api, problemText } from './api.js'
import * as decoding from 'lib0/decoding'
import { session, canWrite, renewToken } from './auth.js'
import { h, clear, notice, fmtDateTime } from './dom.js'
import { collabEditor } from './editor.js'
import { renderDocuments } from './documents.js'
import { renderProcess } from './process.js'
import { renderAssignment } from './assignment.js'
import { renderParticipations } from './participation.js'
import { renderHistory } from './history.js'
import { procedures, procedureName } from './procedures.js'

const FIELDS = [
  ['title', 'Vorhaben (Titel)'],
  ['description', 'Beschreibung', 'textarea'],
  ['site_address', 'Adresse'],
  ['site_gemarkung', 'Gemarkung'],
  ['site_flurstueck', 'Flurstück'],
  ['applicant_name', 'Antragsteller'],
  ['applicant_email', 'E-Mail Antragsteller', 'email']
]
// dark enough for white name labels on remote cursors (WCAG AA contrast 4.5:1)
const COLORS = ['#1f5f99', '#b3261e', '#1e7b34', '#6a3d9a', '#9a4a00', '#0e6e78', '#7a4a3a', '#a3296b']
const HEX = /^#[0-9a-fA-F]{6}$/
// Colours of other editors are used in CSS (presence dots, remote cursors): only #rrggbb.
export const safeColor = (c) => (typeof c === 'string' && HEX.test(c) ? c : '#888888')
// The token travels in the subprotocol header, never in the URL (URLs end up in logs).
const protocolsFor = (token) => ['eakte-collab', `bearer.${token}`]

export function renderCase (main, caseId, navigate) {
  const s = session()
  const writable = canWrite()
  const head = h('div.casehead', h('p.muted', 'Lade Vorgang …'))
  const connection = h('span.badge#connection', 'verbinde …')
  const presence = h('ul.presence#presence')
  const workspace = h('section.col')
  const side = h('section.col')
  clear(main, head, h('div.row.presencebar', connection, writable ? null : h('span.badge', 'nur lesend'), h('span.muted', 'Anwesend:'), presence), h('div.columns', workspace, side))

  const doc = new Y.Doc()
  const wsBase = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/collab`
  const provider = new WebsocketProvider(wsBase, caseId, doc, { protocols: protocolsFor(s.token) })
  // first listener on awareness: clean every remote state before anything renders it
  provider.awareness.on('change', () => {
    for (const state of provider.awareness.getStates().values()) {
      if (state && state.user) {
        state.user.color = safeColor(state.user.color)
        state.user.colorLight = state.user.color + '33'
      }
    }
  })
  const denied = h('p.notice.error#collab-denied', { hidden: true })
  provider.messageHandlers[2] = (_encoder, decoder) => { // y-protocols auth: permission denied
    if (decoding.readVarUint(decoder) === 0) {
      denied.textContent = decoding.readVarString(decoder)
      denied.hidden = false
    }
  }
  const color = COLORS[Math.floor(Math.random() * COLORS.length)]
  provider.awareness.setLocalStateField('user', { name: s.name, color, colorLight: color + '33' })

  provider.on('status', ({ status }) => {
    connection.textContent = { connected: 'live verbunden', connecting: 'verbinde …', disconnected: 'getrennt' }[status] || status
    connection.className = `badge ${status}`
  })
  let renewing = false
  provider.on('connection-close', async (event) => {
    if (event && event.code === 4401 && !renewing) {
      // token expired: stop the automatic reconnect with the old token, get a fresh one and
      // reconnect; the Y.Doc keeps what was typed meanwhile and syncs it on reconnect
      provider.shouldConnect = false
      renewing = true
      connection.textContent = 'Anmeldung wird erneuert …'
      const token = await renewToken()
      renewing = false
      if (token) {
        provider.protocols = protocolsFor(token)
        provider.connect()
        return
      }
    }
    if (event && [4401, 4403, 4404].includes(event.code)) {
      provider.shouldConnect = false
      connection.textContent = `kein Zugriff (${event.code}: ${event.reason || ''})`
      connection.className = 'badge disconnected'
    }
  })
  const renderPresence = () => {
    const people = new Map()
    for (const [clientId, state] of provider.awareness.getStates()) {
      if (state.user) people.set(state.user.name + (clientId === doc.clientID ? ' (Sie)' : ''), safeColor(state.user.color))
    }
    clear(presence, [...people].map(([name, c]) => h('li', h('span.dot', { style: `background:${c}` }), name)))
  }
  provider.awareness.on('change', renderPresence)
  renderPresence()

  const notes = h('div.editor#notes-editor')
  const decision = h('div.editor#decision-editor')
  const fields = h('div.grid#fields')
  const checklist = h('div#checklist')
  const conditions = h('div#conditions')
  const notesMeta = h('p.muted.lastedit#notes-lastedit')
  clear(workspace,
    denied,
    h('div.card', h('h2', 'Angaben zum Vorgang'), fields),
    h('div.card', h('h2', 'Vermerk'), notes, notesMeta),
    h('div.card', h('h2', 'Prüfliste'), checklist),
    h('div.card', h('h2', 'Nebenbestimmungen'), conditions),
    h('div.card', h('h2', 'Entscheidungsentwurf'), decision))

  const editors = [
    collabEditor(notes, doc.getText('notes'), provider.awareness, { readOnly: !writable, hint: 'Vermerk zum Vorgang …', label: 'Vermerk' }),
    collabEditor(decision, doc.getText('decision'), provider.awareness, { readOnly: !writable, hint: 'Entwurf der Entscheidung …', label: 'Entscheidungsentwurf' })
  ]
  bindFields(fields, doc.getMap('fields'), writable, caseId)
  trackLastEdit(doc, 'notes', notesMeta, s.name)
  bindChecklist(checklist, doc.getArray('checklist'), writable, s.name)
  bindConditions(conditions, doc.getArray('conditions'), writable)

  const fieldsMap = doc.getMap('fields')
  const title = h('span#case-title')
  const address = h('span#case-address')
  const applicant = h('span#case-applicant')
  // the header follows every valid edit of the co-edited fields (as the case record does)
  const followFields = () => {
    const t = (fieldsMap.get('title') || '').trim()
    if (t) title.textContent = t
    const a = (fieldsMap.get('site_address') || '').trim()
    if (a) address.textContent = a
    const n = (fieldsMap.get('applicant_name') || '').trim()
    if (n && n.length <= 200) applicant.textContent = n
  }
  fieldsMap.observe(followFields)
  const caseInfo = async () => {
    try {
      const [c, procs] = await Promise.all([api(`/api/v1/cases/${caseId}`), procedures().catch(() => [])])
      title.textContent = c.title
      address.textContent = c.site.address
      applicant.textContent = c.applicant.name
      followFields()
      clear(head,
        h('a.back', { href: '/app/', onclick: (e) => { e.preventDefault(); navigate('/app/') } }, '‹ Vorgänge'),
        h('h1', h('span#file-number', c.file_number), ' – ', title),
        h('p.muted', h('span#case-procedure', procedureName(procs, c.procedure)), ' · ', address, ' · Antragsteller: ', applicant))
    } catch (err) {
      notice(head, 'error', problemText(err))
    }
  }
  caseInfo()
  const processBox = h('div.card#process')
  const documentsBox = h('div.card#documents')
  const assignmentBox = h('div.card#assignment-card')
  const participationBox = h('div.card#participation-card')
  const historyBox = h('div.card#history')
  side.append(assignmentBox, processBox, participationBox, documentsBox, historyBox)
  renderAssignment(assignmentBox, caseId)
  const reloadHistory = renderHistory(historyBox, caseId)
  // Tell the others in the room that the procedure or the documents changed (via awareness),
  // so their panels reload without polling.
  const changed = {}
  const signal = (kind) => {
    changed[kind] = Date.now()
    provider.awareness.setLocalStateField('changed', { ...changed })
  }
  const reloadProcess = renderProcess(processBox, caseId, {
    onChange: () => { caseInfo(); reloadHistory(); signal('process') }
  })
  const reloadDocuments = renderDocuments(documentsBox, caseId, { onChange: () => { reloadHistory(); signal('documents') } })
  const reloadParticipations = renderParticipations(participationBox, caseId, {
    onChange: () => { reloadProcess(true, true); signal('process') }
  })
  const seen = new Map()
  provider.awareness.on('change', () => {
    for (const [clientId, state] of provider.awareness.getStates()) {
      if (clientId === doc.clientID) continue
      const before = seen.get(clientId)
      const now = state.changed || {}
      seen.set(clientId, now)
      if (!before) continue // first seen: our panels were loaded after its changes
      if ((now.process || 0) > (before.process || 0)) { reloadProcess(true, true); reloadParticipations(); caseInfo(); reloadHistory() }
      if ((now.documents || 0) > (before.documents || 0)) { reloadDocuments(); reloadHistory() }
    }
  })

  return () => {
    editors.forEach((v) => v.destroy())
    provider.awareness.setLocalState(null)
    provider.destroy()
    doc.destroy()
  }
}

// Who last changed a part of the workspace, and when (kept in the shared `meta` map)
function trackLastEdit (doc, part, target, name) {
  const meta = doc.getMap('meta')
  let timer
  doc.getText(part).observe((event) => {
    if (!event.transaction.local) return
    clearTimeout(timer)
    timer = setTimeout(() => meta.set(part, { by: name, at: new Date().toISOString() }), 300)
  })
  const draw = () => {
    const last = meta.get(part)
    target.textContent = last && last.by ? `Zuletzt bearbeitet von ${String(last.by).slice(0, 200)} am ${fmtDateTime(String(last.at))}` : ''
  }
  meta.observe(draw)
  draw()
}

// Co-edited fields are checked as you type by the server's rules (POST .../fields/check):
// an invalid value shows the reason and is kept out of the case record until corrected.
function bindFields (box, map, writable, caseId) {
  const inputs = {}
  const reasons = {}
  for (const [key, label, kind] of FIELDS) {
    const reason = h('span.field-error', { id: `field-${key}-error`, 'aria-live': 'polite' })
    const input = h(kind === 'textarea' ? 'textarea' : 'input', {
      name: key,
      id: `field-${key}`,
      type: kind === 'email' ? 'email' : undefined,
      disabled: !writable,
      rows: kind === 'textarea' ? 3 : undefined,
      'aria-describedby': `field-${key}-error`
    })
    input.addEventListener('input', () => map.set(key, input.value))
    inputs[key] = input
    reasons[key] = reason
    box.append(h(kind === 'textarea' ? 'label.wide' : 'label', label, input, reason))
  }
  let timer
  let asked = 0
  const check = async () => {
    const values = {}
    for (const key of Object.keys(inputs)) {
      const value = map.get(key)
      if (typeof value === 'string') values[key] = value
    }
    const mine = ++asked
    try {
      const result = await api(`/api/v1/cases/${caseId}/workspace/fields/check`, { method: 'POST', body: { fields: values } })
      if (mine !== asked) return // a newer check is under way
      for (const [key, input] of Object.entries(inputs)) {
        const why = result.errors[key]
        const text = why ? `${why.de} – wird nicht in die Akte übernommen.` : ''
        reasons[key].textContent = text
        input.setAttribute('aria-invalid', why ? 'true' : 'false')
        if (why) input.dataset.serverReason = '1'
        else delete input.dataset.serverReason
        input.setCustomValidity(text)
      }
    } catch (err) {
      if (err.status !== 403) console.warn('field check failed', err)
    }
  }
  const sync = () => {
    for (const [key, input] of Object.entries(inputs)) {
      const value = map.get(key) ?? ''
      if (input.value === value) continue
      const focused = document.activeElement === input
      const { selectionStart, selectionEnd } = input
      input.value = value
      if (focused && input.type !== 'email') input.setSelectionRange(Math.min(selectionStart, value.length), Math.min(selectionEnd, value.length))
    }
    if (writable) { clearTimeout(timer); timer = setTimeout(check, 250) }
  }
  map.observe(sync)
  sync()
}

function itemText (item) {
  if (item instanceof Y.Map) return item.get('text') ?? ''
  return typeof item === 'string' ? item : String(item ?? '')
}

function editableList (box, yarray, writable, { render, create, placeholder: hint, addId }) {
  const list = h('ul.items')
  const input = h('input', { id: addId, placeholder: hint, 'aria-label': hint.replace(' …', ''), disabled: !writable })
  const add = (e) => {
    e.preventDefault()
    const text = input.value.trim()
    if (!text) return
    yarray.push([create(text)])
    input.value = ''
  }
  box.append(list)
  if (writable) box.append(h('form.row', { onsubmit: add }, input, h('button', { type: 'submit' }, 'Hinzufügen')))
  const draw = () => {
    clear(list, yarray.toArray().map((item, index) => h('li', render(item, index),
      writable ? h('button.link.remove', { type: 'button', title: 'Entfernen', 'aria-label': `Eintrag ${index + 1} entfernen`, onclick: () => yarray.delete(index, 1) }, '✕') : null)))
    if (!yarray.length) list.append(h('li.muted', 'Noch keine Einträge.'))
  }
  yarray.observeDeep(draw)
  draw()
}

function bindChecklist (box, yarray, writable, name) {
  editableList(box, yarray, writable, {
    addId: 'checklist-add',
    placeholder: 'Neuer Prüfpunkt …',
    create: (text) => {
      const m = new Y.Map()
      m.set('text', text)
      m.set('done', false)
      m.set('by', '')
      return m
    },
    render: (item) => {
      const isMap = item instanceof Y.Map
      const done = isMap && !!item.get('done')
      const box = h('input', {
        type: 'checkbox',
        checked: done,
        disabled: !writable || !isMap,
        onchange: (e) => item.doc.transact(() => {
          item.set('done', e.target.checked)
          item.set('by', e.target.checked ? name : '')
        })
      })
      return h('label.check', { class: done ? 'check done' : 'check' }, box, itemText(item),
        done && item.get('by') ? h('span.muted', ` (erledigt: ${item.get('by')})`) : null)
    }
  })
}

function bindConditions (box, yarray, writable) {
  editableList(box, yarray, writable, {
    addId: 'conditions-add',
    placeholder: 'Neue Nebenbestimmung …',
    create: (text) => {
      const m = new Y.Map()
      m.set('text', text)
      return m
    },
    render: (item, index) => {
      const text = itemText(item)
      if (!writable) return h('span', `${index + 1}. ${text}`)
      const input = h('input.inline', { value: text, 'aria-label': `Nebenbestimmung ${index + 1}` })
      input.addEventListener('change', () => {
        if (item instanceof Y.Map) item.set('text', input.value)
        else yarray.doc.transact(() => { yarray.delete(index, 1); yarray.insert(index, [input.value]) })
      })
      return h('span.row.grow', h('span.muted', `${index + 1}.`), input)
    }
  })
}
