// /redoc: ReDoc bundled from npm with its React runtime (no CDN); search is off (it would
// need a blob: worker, which the CSP of eakte/apidocs.py does not allow).
import { createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { RedocStandalone } from 'redoc'

createRoot(document.getElementById('redoc')).render(createElement(RedocStandalone, {
  specUrl: '/openapi.json',
  options: { disableSearch: true, expandResponses: '200,201', hideLoading: false }
}))
