// /redoc: ReDoc bundled from npm (no CDN); search is off (it would need a blob: worker).
import { init } from 'redoc'

init('/openapi.json', { disableSearch: true, expandResponses: '200,201' }, document.getElementById('redoc'))
