// The notification badge in the header and its list; read per user.
import { api, problemText } from './api.js'
import { h, clear, fmtDateTime } from './dom.js'

// The badge is polled while the tab is visible (and at once when it becomes visible again), so
// a Sachbearbeiterin who keeps one case open still sees that an answer or an upload arrived.
export const POLL_MS = 60000
let current = null // the refresh of the bell in the header now shown (the header is redrawn per page)
setInterval(() => { if (current && document.visibilityState === 'visible') current() }, POLL_MS)
document.addEventListener('visibilitychange', () => { if (current && document.visibilityState === 'visible') current() })

export function notificationBell (navigate) {
  const count = h('span.count#notification-count')
  const panel = h('div.notifications#notifications', { hidden: true })
  const button = h('button.link.bell#notification-button', {
    'aria-haspopup': 'true',
    'aria-expanded': 'false',
    onclick: () => { panel.hidden ? open() : close() }
  }, 'Benachrichtigungen ', count)
  const wrap = h('span.bellwrap', button, panel)

  const setCount = (n) => {
    count.textContent = n ? String(n) : ''
    count.hidden = !n
    button.setAttribute('aria-label', n ? `Benachrichtigungen, ${n} ungelesen` : 'Benachrichtigungen')
  }
  const refresh = async () => {
    try { setCount((await api('/api/v1/notifications?unread=true&limit=1')).unread) } catch { /* header stays usable */ }
  }
  const close = () => { panel.hidden = true; button.setAttribute('aria-expanded', 'false') }
  const open = async () => {
    panel.hidden = false
    button.setAttribute('aria-expanded', 'true')
    clear(panel, h('p.muted', 'Lade …'))
    try {
      const list = await api('/api/v1/notifications?limit=30')
      setCount(list.unread)
      clear(panel,
        h('div.row', h('strong', 'Benachrichtigungen'), h('span.spacer'),
          list.unread ? h('button.link#notifications-read-all', {
            onclick: async () => { setCount((await api('/api/v1/notifications/read', { method: 'POST' })).unread); open() }
          }, 'Alle als gelesen markieren') : null),
        list.items.length
          ? h('ul.notes', list.items.map((n) => h('li', { class: n.read ? 'read' : 'unread', dataset: { kind: n.kind } },
            h('button.link', {
              onclick: async () => {
                if (!n.read) await api(`/api/v1/notifications/${n.id}/read`, { method: 'POST' }).catch(() => {})
                close()
                refresh()
                navigate(`/app/cases/${n.case_id}`)
              }
            }, h('span', `${n.file_number}: ${n.text_de}`)),
            h('span.muted.small', fmtDateTime(n.created_at)))))
          : h('p.muted', 'Keine Benachrichtigungen.'))
    } catch (err) {
      clear(panel, h('p.notice.error', problemText(err)))
    }
  }
  current = () => { if (wrap.isConnected) refresh() }
  refresh()
  return wrap
}
