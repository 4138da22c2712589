// Beteiligung: the clerk asks agencies (with the deadline the procedure gives) and sees their
// answers; the agency's own page shows only the Bauvorlagen and its request, and answers.
import { api, parseProblem, problemText } from './api.js'
import { session, hasRole } from './auth.js'
import { h, clear, notice, fmtDate } from './dom.js'

const STATUS = { open: 'offen', answered: 'beantwortet', deemed: 'Frist abgelaufen ohne Antwort' }
const ANSWER = { consent: 'Zustimmung', refusal: 'Versagung', statement: 'Stellungnahme' }
const SILENCE = { consent_deemed: 'Zustimmung gilt als erteilt', no_concerns: 'keine Bedenken angenommen' }

function participationLine (p) {
  return h('li', { dataset: { participation: p.id, status: p.status } },
    h('strong', p.party), ' – ', STATUS[p.status] || p.status,
    p.answer ? ` (${ANSWER[p.answer] || p.answer})` : null,
    p.late ? h('span.badge.overdue', 'verspätet') : null,
    p.status === 'deemed' ? h('span.badge.fiction', SILENCE[p.on_silence] || p.on_silence) : null,
    h('br'), h('span.muted', `Frist bis ${fmtDate(p.due)}`, p.received_on ? ` · Antwort eingegangen ${fmtDate(p.received_on)}` : ''),
    p.statement ? h('blockquote.statement', p.statement) : null)
}

export function renderParticipations (box, caseId, { onChange } = {}) {
  const status = h('div#participation-status')
  const list = h('ul.participations#participations')
  const formBox = h('div')
  const load = async () => {
    try {
      const view = await api(`/api/v1/cases/${caseId}/process`)
      clear(list, view.participations.length ? view.participations.map(participationLine) : h('li.muted', 'Noch keine Beteiligung.'))
      if (hasRole('clerk', 'admin') && !view.final && !formBox.firstChild) await drawForm()
    } catch (err) {
      notice(status, 'error', problemText(err))
    }
  }
  const drawForm = async () => {
    const [preview, agencies] = await Promise.all([
      api(`/api/v1/cases/${caseId}/participations/preview`),
      api('/api/v1/directory?role=agency')
    ])
    const kind = h('select', { name: 'kind', id: 'participation-kind', required: true },
      preview.kinds.map((k) => h('option', { value: k.kind }, k.label.de)))
    const agency = h('select', { name: 'agency', id: 'participation-agency' },
      h('option', { value: '' }, '– ohne Zugang im System (Post, XBau) –'),
      agencies.items.map((m) => h('option', { value: m.sub }, m.name)))
    const party = h('input', { name: 'party', id: 'participation-party', required: true, maxlength: 200, placeholder: 'z. B. Wasserwirtschaftsamt' })
    const due = h('p.muted#participation-due')
    const showDue = () => {
      const k = preview.kinds.find((x) => x.kind === kind.value)
      clear(due, k ? `Frist bis ${fmtDate(k.due)} (${k.legal_basis}); ohne Antwort: ${SILENCE[k.on_silence] || k.on_silence}` : '')
    }
    kind.addEventListener('change', showDue)
    agency.addEventListener('change', () => {
      const chosen = agencies.items.find((m) => m.sub === agency.value)
      if (chosen && !party.value) party.value = chosen.name
    })
    showDue()
    clear(formBox, h('form#participation-form.grid', {
      onsubmit: async (e) => {
        e.preventDefault()
        try {
          await api(`/api/v1/cases/${caseId}/participations`, {
            method: 'POST',
            body: { kind: kind.value, party: party.value, ...(agency.value ? { agency_sub: agency.value } : {}) }
          })
          notice(status, 'ok', `${party.value} beteiligt.`)
          party.value = ''
          agency.value = ''
          load()
          if (onChange) onChange()
        } catch (err) {
          notice(status, 'error', problemText(err))
        }
      }
    },
    h('label', 'Art der Beteiligung', kind),
    h('label', 'Fachstelle', agency),
    h('label.wide', 'Beteiligte Stelle (Name) *', party),
    h('div.wide', due),
    h('div.wide', h('button.primary', { type: 'submit' }, 'Beteiligung anfordern'))))
  }
  clear(box, h('h2', 'Beteiligung'), list, status, formBox)
  load()
  return load
}

function uploadStatement (caseId, file, title) {
  const form = new FormData()
  form.append('title', title)
  form.append('kind', 'stellungnahme')
  form.append('file', file)
  return fetch(`/api/v1/cases/${caseId}/documents`, {
    method: 'POST', body: form, headers: { Authorization: `Bearer ${session().token}` }
  }).then(async (r) => { if (!r.ok) throw await parseProblem(r.status, await r.text()); return r.json() })
}

async function download (caseId, d) {
  const r = await fetch(`/api/v1/cases/${caseId}/documents/${d.id}/content`, { headers: { Authorization: `Bearer ${session().token}` } })
  if (!r.ok) throw await parseProblem(r.status, await r.text())
  const a = h('a', { href: URL.createObjectURL(await r.blob()), download: d.latest_version?.filename || d.title })
  document.body.append(a)
  a.click()
  a.remove()
}

// The agency's (Fachstelle's) page of a case: Bauvorlagen, its request, its answer.
export function renderAgencyCase (main, caseId, navigate) {
  const status = h('div#agency-status')
  clear(main, h('p.muted', 'Lade …'))
  const load = async () => {
    try {
      const [c, view, docs] = await Promise.all([
        api(`/api/v1/cases/${caseId}`),
        api(`/api/v1/cases/${caseId}/process`),
        api(`/api/v1/cases/${caseId}/documents`)
      ])
      const open = view.participations.filter((p) => p.status !== 'answered')
      clear(main,
        h('a.back', { href: '/app/', onclick: (e) => { e.preventDefault(); navigate('/app/') } }, '‹ Anfragen'),
        h('h1', h('span#file-number', c.file_number), ' – ', c.title),
        h('p.muted', `${c.site.address} · Antragsteller: ${c.applicant.name} · ${view.state_label.de}`),
        h('div.columns',
          h('section.col',
            h('div.card#agency-request', h('h2', 'Ihre Beteiligung'), h('ul.participations', view.participations.map(participationLine))),
            open.length ? answerForm(caseId, open[0], status, load) : null,
            status),
          h('section.col',
            h('div.card#agency-documents', h('h2', 'Bauvorlagen'),
              docs.items.length
                ? h('ul.docs', docs.items.map((d) => h('li.doc', h('span.doc-title', d.title), ' ',
                  h('span.muted', d.kind_label || d.kind), ' ',
                  h('button.link', { onclick: () => download(caseId, d).catch((err) => notice(status, 'error', problemText(err))) }, 'Herunterladen'))))
                : h('p.muted', 'Keine Bauvorlagen.')))))
    } catch (err) {
      notice(main, 'error', problemText(err))
    }
  }
  load()
}

function answerForm (caseId, p, status, reload) {
  const answer = h('select', { name: 'answer', id: 'answer-kind' },
    Object.entries(ANSWER).map(([v, label]) => h('option', { value: v, selected: v === 'statement' }, label)))
  const text = h('textarea', { name: 'statement', id: 'answer-statement', rows: 5, maxlength: 20000 })
  const file = h('input', { type: 'file', id: 'answer-file', accept: 'application/pdf,image/png,image/jpeg' })
  return h('form.card.grid#answer-form', {
    onsubmit: async (e) => {
      e.preventDefault()
      try {
        if (file.files[0]) await uploadStatement(caseId, file.files[0], `Stellungnahme ${p.party}`)
        await api(`/api/v1/cases/${caseId}/participations/${p.id}/answer`, {
          method: 'POST', body: { answer: answer.value, statement: text.value }
        })
        notice(status, 'ok', 'Ihre Antwort ist eingegangen.')
        reload()
      } catch (err) {
        notice(status, 'error', problemText(err))
      }
    }
  },
  h('h2.wide', 'Antworten'),
  h('label', 'Antwort *', answer),
  h('label', 'Stellungnahme als Datei (PDF)', file),
  h('label.wide', 'Stellungnahme (Text)', text),
  h('div.wide', h('button.primary', { type: 'submit' }, 'Antwort senden')))
}
