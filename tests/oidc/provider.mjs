// A real OpenID Connect provider for the tests: node oidc-provider with PKCE, JWT access
// tokens for the E-Akte API (audience "eakte-api"), refresh tokens, end_session.
// usage: node provider.mjs <port> <layout: keycloak|flat> <alg: RS256|ES256> [app origin]
//        [access token lifetime in seconds, default 300]
// Prints "ready <issuer>" on stdout when it listens.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, layout = 'flat', alg = 'RS256', app = 'http://127.0.0.1:9', ttl = '300'] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const CLIENT = 'eakte-web';
const API = 'urn:eakte:api';

function key(kind) {
  const { privateKey } = kind === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `${kind.toLowerCase()}-1`, alg: kind, use: 'sig' };
}

// Accounts by login name; claims as the two layouts carry them.
const USERS = {
  sachbearbeitung: { name: 'Erika Sachbearbeiterin', realm: ['bau-sachbearbeitung', 'offline_access', 'admin'], client: ['zeichnung'], flat: ['clerk', 'approver'], tenant: 'muenchen' },
  revision: { name: 'Rolf Revision', realm: ['bau-revision'], client: [], flat: ['auditor'], tenant: 'muenchen' },
  niemand: { name: 'Nora Niemand', realm: ['offline_access'], client: [], flat: [], tenant: 'muenchen' },
};

function roleClaims(id) {
  const user = USERS[id];
  if (!user) return {};
  if (layout === 'keycloak') {
    return {
      realm_access: { roles: user.realm },
      resource_access: { [CLIENT]: { roles: user.client }, account: { roles: ['manage-account'] } },
      preferred_username: id,
      name: user.name,
    };
  }
  return { tenant: user.tenant, roles: user.flat, name: user.name };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT,
    token_endpoint_auth_method: 'none',
    application_type: 'web',
    redirect_uris: ['http://127.0.0.1:9/app/callback', `${app}/app/`],
    post_logout_redirect_uris: ['http://127.0.0.1:9/app/', `${app}/app/`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    id_token_signed_response_alg: alg,
  }],
  jwks: { keys: [key(alg)] },
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'offline_access'],
  issueRefreshToken: () => true,
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => API,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'openid profile',
        audience: 'eakte-api',
        accessTokenFormat: 'jwt',
        accessTokenTTL: Number(ttl),
        jwt: { sign: { alg } },
      }),
    },
  },
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { sub: id, ...roleClaims(id) }; } };
  },
  async extraTokenClaims(ctx, token) {
    return token.kind === 'AccessToken' ? roleClaims(token.accountId) : undefined;
  },
  loadExistingGrant: async (ctx) => {
    // consent is implied for the first-party client (a city's own IdP does the same)
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile offline_access');
    grant.addResourceScope(API, 'openid profile');
    await grant.save();
    return grant;
  },
});
provider.proxy = false;
const server = provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
