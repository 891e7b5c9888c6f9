// Shared by the CI credential suites (ci-credentials.test.mjs: the JS API; tfx-ci.test.mjs: the
// real tfx-cli): every fake a CI machine talks to, started together, and the environment of each
// credential source of issue 19. Not a test file itself.
//
//   const ci = await startCiFakes({ dir, cert });     // dir: where the PEM and token files go
//   ci.env('imds')                                    // the variables of one scenario
//   ci.allVariables()                                 // every source's variables at once
//   ci.requestCounts()                                // { authority, pipelines, github, appService, imds, guard }
//
// Nothing leaves loopback: AZURE_AUTHORITY_HOST is the fake authority and the IMDS host is always
// overridden (a recorder when the scenario is not IMDS), so a client that ignored either would
// reach a fake that counts it, never 169.254.169.254 or a real authority.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { startFakeAuthority } from './fixtures/fake-authority.mjs';
import { startFakeIdentity } from './fixtures/fake-identity.mjs';
import { startRecorder } from './fixtures/recorder.mjs';
import { makeClientCertificate } from './fixtures/ca.mjs';
import { makeIssuer } from './fixtures/jwt.mjs';
import { IDS } from './fixtures/fake-ado.mjs';
import { makeSecret, rememberSecret } from './helpers.mjs';

export const SOURCES = ['service-principal', 'workload-identity', 'azure-pipelines', 'github-actions', 'managed-identity'];

/**
 * The scenarios: `source` is what resolveCredential reports, `named` whether TFX_AUTH_CREDENTIAL
 * must name it (the ambient ones), `via` how the authority saw the client authenticate (null: no
 * exchange, a managed identity), `identity` the fake endpoint asked first, if any.
 */
export const SCENARIOS = ['sp-secret', 'sp-certificate', 'workload-identity', 'azure-pipelines', 'github-actions', 'app-service', 'app-service-user-assigned', 'imds'];

/** A short fingerprint of a token: what assertions compare, so a failure never prints a secret. */
export const fp = (token) => (token == null ? token : createHash('sha256').update(String(token)).digest('hex').slice(0, 16));

/**
 * The lines a child script starts with: `fp`, `show(resolved or credential)` (no secret, only its
 * fingerprint) and `fail(err)`, so the child's output can be recorded and scanned for leaks.
 */
export const CHILD_PRELUDE = `const { createHash } = await import('node:crypto');
const fp = (t) => (t == null ? t : createHash('sha256').update(String(t)).digest('hex').slice(0, 16));
const show = (r) => (r == null ? r : { source: r.source, type: (r.credential ?? r).type, fp: fp((r.credential ?? r).accessToken ?? (r.credential ?? r).token),
  expiresOn: (r.credential ?? r).expiresOn, keys: Object.keys(r.credential ?? r).sort() });
const fail = (e) => ({ error: e?.code ?? String(e), message: e?.message, status: e?.status });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
`;

export async function startCiFakes({ dir, cert = null, authority: authorityOptions = {}, imds: imdsOptions = {}, appService: appServiceOptions = {} } = {}) {
  const tenant = IDS.tenant;
  const ids = {
    sp: randomUUID(), certificate: randomUUID(), workload: randomUUID(), pipelines: randomUUID(), github: randomUUID(),
    miSystem: randomUUID(), miUser: randomUUID(),
  };
  const clientSecret = makeSecret('cisecret~');
  const certificate = cert ?? makeClientCertificate(dir, { name: `sp-${randomUUID().slice(0, 8)}` });
  certificate.secretLines.forEach(rememberSecret);
  const k8s = makeIssuer('https://oidc.prod-aks.azure.com/3f1c0a6e-cluster/', 'system:serviceaccount:ci:publisher');
  const tokenFile = join(dir, `azure-identity-token-${randomUUID().slice(0, 8)}`);
  let federatedToken = null;
  const writeFederatedToken = (claims) => {
    federatedToken = rememberSecret(k8s.token(claims));
    writeFileSync(tokenFile, `${federatedToken}\n`); // a projected token file ends with a newline; the client trims it
    return federatedToken;
  };
  writeFederatedToken();
  const jobToken = makeSecret('jobtoken');
  const requestToken = makeSecret('ghrequest');
  const identityHeader = makeSecret('idheader');

  const authority = await startFakeAuthority({ onSecret: rememberSecret, ...authorityOptions });
  const pipelines = await startFakeIdentity({ kind: 'azure-pipelines', bearer: jobToken, onSecret: rememberSecret });
  const github = await startFakeIdentity({ kind: 'github-actions', bearer: requestToken, onSecret: rememberSecret });
  const appService = await startFakeIdentity({ kind: 'app-service', identityHeader, clientIds: [ids.miUser], systemClientId: ids.miSystem,
    issueAccessToken: authority.issueAccessToken, onSecret: rememberSecret, ...appServiceOptions });
  const imds = await startFakeIdentity({ kind: 'imds', clientIds: [ids.miUser], systemClientId: ids.miSystem,
    issueAccessToken: authority.issueAccessToken, onSecret: rememberSecret, ...imdsOptions });
  // Stands where IMDS would be for every scenario that is not IMDS: it must see nothing.
  const guard = await startRecorder({ host: '127.0.0.3' });
  authority.addApp({ tenant, clientId: ids.sp, secret: clientSecret });
  authority.addApp({ tenant, clientId: ids.certificate, certificates: [certificate.x509] });
  authority.addApp({ tenant, clientId: ids.workload, federations: [k8s.federation] });
  authority.addApp({ tenant, clientId: ids.pipelines, federations: [pipelines.federation] });
  authority.addApp({ tenant, clientId: ids.github, federations: [github.federation] });

  const vars = {
    'sp-secret': { AZURE_TENANT_ID: tenant, AZURE_CLIENT_ID: ids.sp, AZURE_CLIENT_SECRET: clientSecret },
    'sp-certificate': { AZURE_TENANT_ID: tenant, AZURE_CLIENT_ID: ids.certificate, AZURE_CLIENT_CERTIFICATE_PATH: certificate.pemPath },
    'workload-identity': { AZURE_TENANT_ID: tenant, AZURE_CLIENT_ID: ids.workload, AZURE_FEDERATED_TOKEN_FILE: tokenFile },
    'azure-pipelines': {
      SYSTEM_OIDCREQUESTURI: pipelines.url, SYSTEM_ACCESSTOKEN: jobToken, SYSTEM_COLLECTIONURI: pipelines.collectionUri,
      AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: pipelines.serviceConnectionId, AZURESUBSCRIPTION_CLIENT_ID: ids.pipelines, AZURESUBSCRIPTION_TENANT_ID: tenant,
    },
    'github-actions': { ACTIONS_ID_TOKEN_REQUEST_URL: github.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken, AZURE_CLIENT_ID: ids.github, AZURE_TENANT_ID: tenant },
    'app-service': { IDENTITY_ENDPOINT: appService.url, IDENTITY_HEADER: identityHeader },
    'app-service-user-assigned': { IDENTITY_ENDPOINT: appService.url, IDENTITY_HEADER: identityHeader, AZURE_CLIENT_ID: ids.miUser },
    imds: { AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.url },
  };
  const meta = {
    'sp-secret': { source: 'service-principal', named: false, clientId: ids.sp, via: 'secret' },
    'sp-certificate': { source: 'service-principal', named: false, clientId: ids.certificate, via: 'certificate' },
    'workload-identity': { source: 'workload-identity', named: false, clientId: ids.workload, via: 'federated' },
    'azure-pipelines': { source: 'azure-pipelines', named: true, clientId: ids.pipelines, via: 'federated', identity: 'pipelines' },
    'github-actions': { source: 'github-actions', named: true, clientId: ids.github, via: 'federated', identity: 'github' },
    'app-service': { source: 'managed-identity', named: true, clientId: ids.miSystem, via: null, identity: 'appService' },
    'app-service-user-assigned': { source: 'managed-identity', named: true, clientId: ids.miUser, via: null, identity: 'appService' },
    imds: { source: 'managed-identity', named: true, clientId: ids.miSystem, via: null, identity: 'imds' },
  };
  const fakes = { authority, pipelines, github, appService, imds, guard };
  const base = { AZURE_AUTHORITY_HOST: authority.url, TFX_AUTH_ENTRA_HOSTS: '127.0.0.1', AZURE_POD_IDENTITY_AUTHORITY_HOST: guard.origin };

  return {
    ...fakes,
    federatedToken: () => federatedToken,
    ids, tenant, certificate, tokenFile, clientSecret, jobToken, requestToken, identityHeader, k8s, writeFederatedToken,
    scenario: (name) => ({ name, ...meta[name], vars: vars[name] }),
    /** The variables of one scenario, TFX_AUTH_CREDENTIAL included when the source must be named. */
    env(name, { name: nameIt = meta[name].named } = {}) {
      return { ...base, ...(nameIt ? { TFX_AUTH_CREDENTIAL: meta[name].source } : {}), ...vars[name] };
    },
    /** Every source's variables at once (no TFX_AUTH_CREDENTIAL; the last AZURE_CLIENT_ID wins). */
    allVariables() {
      return Object.assign({ ...base }, ...Object.values(vars).reverse(), { AZURE_CLIENT_ID: ids.sp });
    },
    /** How many requests (connections for the guard) each fake has seen. */
    requestCounts() {
      return { authority: authority.requests.length, pipelines: pipelines.requests.length, github: github.requests.length,
        appService: appService.requests.length, imds: imds.requests.length, guard: guard.connections };
    },
    /** The client credentials grants the authority answered with a token, for a client id. */
    exchanges(clientId) {
      return authority.clientCredentialGrants().filter((g) => g.form.client_id === clientId && g.outcome?.status === 200);
    },
    /** Every access token handed out (authority grants and managed identity answers), newest last. */
    issuedTokens() {
      return [...authority.clientCredentialGrants().map((g) => g.issued).filter(Boolean), ...appService.issued.map((i) => i.token), ...imds.issued.map((i) => i.token)];
    },
    async close() {
      await Promise.all(Object.values(fakes).map((f) => f.close()));
    },
  };
}
