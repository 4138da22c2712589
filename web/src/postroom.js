// Poststelle (issue 13): the day's print batch of signed postal letters, its PDF, and the
// confirmation that it was handed to the post; the Bekanntgabe of every letter follows from the
// posting day (Art. 41 Abs. 2 BayVwVfG), so the confirmation asks before it is recorded.
import { api, problemText } from './api.js'
import { h, clear, notice, fmtDate, fmtDateTime, labelCells } from './dom.js'
import { download } from './documents.js'

const today = () => new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Berlin' }) // YYYY-MM-DD

function letterTable (batch) {
  return h('div.table-wrap', labelCells(h('table.list.stack.letters',
    h('caption.sr-only', `Schreiben des Druckstapels vom ${fmtDate(batch.date)}`),
    h('thead', h('tr', ['Nr.', 'Aktenzeichen', 'Empfänger', 'PLZ', 'Schreiben', 'Seiten', 'Bekanntgabe'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', batch.items.map((l) => h('tr', { dataset: { issued: l.issued_id } },
      h('td', String(l.position)),
      h('td', l.file_number),
      h('td', l.addressee_name),
      h('td', l.postcode),
      h('td', l.label_de),
      h('td', `${l.pages} (ab S. ${l.first_page})`),
      h('td', l.bekanntgabe_on ? `am ${fmtDate(l.bekanntgabe_on)}` : h('span.muted', 'noch nicht zur Post gegeben'))))))))
}

export function renderPostroom (main) {
  const status = h('div#postroom-status')
  const list = h('div#batches')
  const dayInput = h('input', { type: 'date', id: 'batch-date', name: 'date', value: today(), required: true })

  const confirmPosted = (batch, slot) => {
    if (slot.childElementCount) return clear(slot)
    const posted = h('input', { type: 'date', name: 'posted_on', id: `posted-on-${batch.id}`, value: today(), required: true })
    clear(slot, h('form.card.posted-form', {
      onsubmit: async (e) => {
        e.preventDefault()
        try {
          const done = await api(`/api/v1/postroom/batches/${batch.id}/posted`, { method: 'POST', body: { posted_on: posted.value } })
          notice(status, done.skipped.length ? 'warn' : 'ok',
            `Druckstapel vom ${fmtDate(batch.date)} als am ${fmtDate(posted.value)} zur Post gegeben erfasst.` +
            (done.skipped.length ? ` Nicht bekanntgegeben: ${done.skipped.map((s) => `${s.file_number} (${s.reason_de})`).join('; ')}` : ''))
          load()
        } catch (err) {
          notice(status, 'error', problemText(err))
        }
      }
    },
    h('p', 'Mit der Bestätigung gilt jedes Schreiben dieses Stapels am vierten Tag nach der Aufgabe zur Post als bekanntgegeben (Art. 41 Abs. 2 BayVwVfG); die Fristen laufen ab dann. Bitte erst bestätigen, wenn der Stapel tatsächlich übergeben wurde.'),
    h('label', 'Zur Post gegeben am *', posted),
    h('div.row', h('button.primary', { type: 'submit' }, 'Aufgabe zur Post bestätigen'), h('button', { type: 'button', onclick: () => clear(slot) }, 'Abbrechen'))))
    posted.focus()
  }

  const batchCard = (batch) => {
    const slot = h('div')
    const details = h('div')
    return h('div.card.batch', { dataset: { batch: batch.id, posted: batch.posted_on ? 'yes' : 'no' } },
      h('div.row', h('h2', `Druckstapel vom ${fmtDate(batch.date)}`), h('span.spacer'),
        batch.posted_on ? h('span.badge', `zur Post gegeben am ${fmtDate(batch.posted_on)}`) : h('span.badge.overdue', 'noch nicht zur Post gegeben')),
      h('p.muted', `${batch.letters} Schreiben, ${batch.pages} Seiten · erstellt ${fmtDateTime(batch.created_at)}`),
      h('div.row',
        h('button', { type: 'button', class: 'download', onclick: () => download(batch.content_url, `druckstapel-${batch.date}.pdf`).catch((err) => notice(status, 'error', problemText(err))) }, 'PDF herunterladen'),
        h('button.link', {
          type: 'button',
          class: 'show-letters',
          onclick: async () => {
            if (details.childElementCount) return clear(details)
            try { clear(details, letterTable(await api(`/api/v1/postroom/batches/${batch.id}`))) } catch (err) { notice(status, 'error', problemText(err)) }
          }
        }, 'Schreiben anzeigen'),
        batch.posted_on ? null : h('button', { type: 'button', class: 'confirm-posted', onclick: () => confirmPosted(batch, slot) }, 'Aufgabe zur Post bestätigen …')),
      slot, details)
  }

  const load = async () => {
    try {
      const batches = await api('/api/v1/postroom/batches')
      clear(list, batches.length ? batches.map(batchCard) : h('p.muted', 'Noch kein Druckstapel.'))
    } catch (err) {
      notice(list, 'error', problemText(err))
    }
  }

  clear(main,
    h('h1', 'Poststelle'),
    h('p.muted', 'Gezeichnete Schreiben, die per Post zugehen, werden je Tag zu einem Druckstapel zusammengefasst: Deckblatt mit der Liste, dann die gesiegelten Schreiben, sortiert nach Postleitzahl.'),
    h('form.card.row#batch-create', {
      onsubmit: async (e) => {
        e.preventDefault()
        try {
          const batch = await api('/api/v1/postroom/batches', { method: 'POST', body: { date: dayInput.value } })
          notice(status, 'ok', `Druckstapel vom ${fmtDate(batch.date)}: ${batch.letters} Schreiben, ${batch.pages} Seiten.`)
          load()
        } catch (err) {
          notice(status, 'error', problemText(err))
        }
      }
    }, h('label', 'Tag des Druckstapels *', dayInput), h('button.primary', { type: 'submit' }, 'Druckstapel erstellen')),
    status, list)
  load()
}
