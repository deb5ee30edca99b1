import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/admin/auth/password.ts';
import { Permission } from '../../src/store/store.ts';
import { providerBody, routeBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';

const SECRET = 'bad-inputs-test-secret-0123456789';
const UNKNOWN_ID = '11111111-2222-4333-8444-555555555555';

let t: TestEngine;
let live: { id: string };
let credentialed: { id: string };
const TRUNK_PASSWORD = 'bad-inputs trunk pw 7Q';
let deleted: { id: string };
let route: { id: string };
let adminId: string;
let other: { id: string };
let accessKey: { id: string };
const tokens: Record<string, string> = {};
const CUSTOMER_PASSWORD = 'pw-customer-admin';

async function sign(secret: string, sub: string, exp: number | string): Promise<string> {
  return new SignJWT({ username: 'x' }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer('outdial').setIssuedAt().setExpirationTime(exp).sign(new TextEncoder().encode(secret));
}

/** Every table row a bad request is held to: nothing in the store changed. */
function fingerprint(): Promise<string> {
  return t.db.fingerprint();
}

beforeAll(async () => {
  t = await startTestEngine({ overrides: { auth: { jwtSecret: SECRET } } });
  live = (await t.request('POST', '/v1.0/providers', { body: providerBody() })).body;
  deleted = (await t.request('POST', '/v1.0/providers', { body: providerBody({ name: 'gone' }) })).body;
  expect((await t.request('DELETE', `/v1.0/providers/${deleted.id}`)).status).toBe(200);
  route = (await t.request('POST', '/v1.0/routes', { body: routeBody(live.id) })).body;
  credentialed = (await t.request('POST', '/v1.0/providers', { body: providerBody({ name: 'trunk', auth_username: 'trunk-user', auth_password: TRUNK_PASSWORD }) })).body;
  const admin = (await t.engine.store.agents.findByUsername('admin'))!;
  adminId = admin.id;
  await t.engine.store.agents.create({ username: 'customer-admin', passwordHash: await hashPassword(CUSTOMER_PASSWORD), permission: Permission.CustomerAll });
  tokens.admin = await t.login();
  tokens.notSuperAdmin = await t.login('customer-admin', CUSTOMER_PASSWORD);
  other = (await t.request('POST', '/v1.0/agents', { body: { username: 'other', password: 'other agent password', permission: Permission.CustomerAdmin } })).body;
  accessKey = (await t.request('POST', '/v1.0/accesskeys', { body: { name: 'k' } })).body;
  tokens.expired = await sign(SECRET, admin.id, Math.floor(Date.now() / 1000) - 60);
  tokens.forged = await sign('some-other-secret-0123456789abcdef', admin.id, '1h');
  tokens.unknownAgent = await sign(SECRET, UNKNOWN_ID, '1h');
});
afterAll(async () => {
  await t?.close();
});

type Case = [label: string, method: string, path: () => string, body: unknown, status: number, reason: string, opts?: { raw?: string | Buffer; token?: string | null; headers?: Record<string, string> }];

const big = 'x'.repeat(70 * 1024);

const PROVIDER_CASES: Case[] = [
  ['malformed JSON', 'POST', () => '/v1.0/providers', undefined, 400, 'INVALID_JSON_BODY', { raw: '{"type": "sip", "hostname": ' }],
  ['empty body', 'POST', () => '/v1.0/providers', undefined, 400, 'INVALID_JSON_BODY', { raw: '' }],
  ['prototype poisoning', 'POST', () => '/v1.0/providers', undefined, 400, 'INVALID_JSON_BODY', { raw: '{"type":"sip","hostname":"a.com","__proto__":{"x":1}}' }],
  ['array body', 'POST', () => '/v1.0/providers', [], 400, 'INVALID_ARGUMENT'],
  ['unknown field', 'POST', () => '/v1.0/providers', providerBody({ colour: 'blue' }), 400, 'INVALID_ARGUMENT'],
  ['name not a string', 'POST', () => '/v1.0/providers', providerBody({ name: 5 }), 400, 'INVALID_ARGUMENT'],
  ['type not sip', 'POST', () => '/v1.0/providers', providerBody({ type: 'pstn' }), 400, 'INVALID_ARGUMENT'],
  ['missing hostname', 'POST', () => '/v1.0/providers', { type: 'sip' }, 400, 'INVALID_ARGUMENT'],
  ['oversized body', 'POST', () => '/v1.0/providers', providerBody({ detail: big }), 400, 'BODY_TOO_LARGE'],
  ['hostname with a space', 'POST', () => '/v1.0/providers', providerBody({ hostname: 'bad host.com' }), 400, 'INVALID_HOSTNAME'],
  ['hostname port out of range', 'POST', () => '/v1.0/providers', providerBody({ hostname: 'sip.example.com:70000' }), 400, 'INVALID_HOSTNAME'],
  ['hostname not a string', 'POST', () => '/v1.0/providers', providerBody({ hostname: 42 }), 400, 'INVALID_HOSTNAME'],
  ['hostname unbracketed IPv6', 'POST', () => '/v1.0/providers', providerBody({ hostname: '2001:db8::1' }), 400, 'INVALID_HOSTNAME'],
  ['tech_prefix with <', 'POST', () => '/v1.0/providers', providerBody({ tech_prefix: '<9>' }), 400, 'INVALID_ARGUMENT'],
  ['tech_postfix of 33 chars', 'POST', () => '/v1.0/providers', providerBody({ tech_postfix: '1'.repeat(33) }), 400, 'INVALID_ARGUMENT'],
  ['CR/LF in a header value', 'POST', () => '/v1.0/providers', providerBody({ tech_headers: { 'X-A': 'a\r\nVia: SIP/2.0/UDP evil' } }), 400, 'INVALID_TECH_HEADERS'],
  ['LF in a header value', 'POST', () => '/v1.0/providers', providerBody({ tech_headers: { 'X-A': 'a\nb' } }), 400, 'INVALID_TECH_HEADERS'],
  ['header name not a token', 'POST', () => '/v1.0/providers', providerBody({ tech_headers: { 'X A': 'a' } }), 400, 'INVALID_TECH_HEADERS'],
  ['header value not a string', 'POST', () => '/v1.0/providers', providerBody({ tech_headers: { 'X-A': 1 } }), 400, 'INVALID_TECH_HEADERS'],
  ['reserved header Via', 'POST', () => '/v1.0/providers', providerBody({ tech_headers: { Via: 'x' } }), 400, 'INVALID_TECH_HEADERS'],
  ['reserved header call-id (case)', 'POST', () => '/v1.0/providers', providerBody({ tech_headers: { 'call-id': 'x' } }), 400, 'INVALID_TECH_HEADERS'],
  ['reserved compact form m', 'POST', () => '/v1.0/providers', providerBody({ tech_headers: { m: 'x' } }), 400, 'INVALID_TECH_HEADERS'],
  ['reserved customer header', 'POST', () => '/v1.0/providers', providerBody({ tech_headers: { 'x-customer-id': 'x' } }), 400, 'INVALID_TECH_HEADERS'],
  ['reserved internal header', 'POST', () => '/v1.0/providers', providerBody({ tech_headers: { 'X-Outdial-Attempt': '1' } }), 400, 'INVALID_TECH_HEADERS'],
  ['codecs a,,b', 'POST', () => '/v1.0/providers', providerBody({ codecs: 'a,,b' }), 400, 'INVALID_CODECS'],
  ['codecs with a space inside a name', 'POST', () => '/v1.0/providers', providerBody({ codecs: 'PC MU' }), 400, 'INVALID_CODECS'],
  ['codecs of 256 chars', 'POST', () => '/v1.0/providers', providerBody({ codecs: 'A'.repeat(256) }), 400, 'INVALID_CODECS'],
  ['codecs not a string', 'POST', () => '/v1.0/providers', providerBody({ codecs: ['PCMU'] }), 400, 'INVALID_CODECS'],
  ['PUT reserved header', 'PUT', () => `/v1.0/providers/${live.id}`, providerBody({ tech_headers: { Contact: 'x' } }), 400, 'INVALID_TECH_HEADERS'],
  ['PUT bad codecs', 'PUT', () => `/v1.0/providers/${live.id}`, providerBody({ codecs: ',' }), 400, 'INVALID_CODECS'],
  ['PUT bad hostname', 'PUT', () => `/v1.0/providers/${live.id}`, providerBody({ hostname: 'a..b' }), 400, 'INVALID_HOSTNAME'],
  ['PUT unknown field', 'PUT', () => `/v1.0/providers/${live.id}`, providerBody({ id: UNKNOWN_ID, colour: 'blue' }), 400, 'INVALID_ARGUMENT'],
  ['POST with a read-only field', 'POST', () => '/v1.0/providers', providerBody({ health_status: 'healthy' }), 400, 'INVALID_ARGUMENT'],
  ['text/plain body (CSRF form)', 'POST', () => '/v1.0/providers', undefined, 415, 'UNSUPPORTED_MEDIA_TYPE', { raw: JSON.stringify(providerBody()), headers: { 'content-type': 'text/plain' } }],
  ['form-urlencoded body', 'POST', () => '/v1.0/providers', undefined, 415, 'UNSUPPORTED_MEDIA_TYPE', { raw: 'type=sip&hostname=a.com', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
  ['multipart body', 'POST', () => '/v1.0/providers', undefined, 415, 'UNSUPPORTED_MEDIA_TYPE', { raw: '--x\r\n\r\n--x--', headers: { 'content-type': 'multipart/form-data; boundary=x' } }],
  ['JSON in Latin-1', 'POST', () => '/v1.0/providers', undefined, 415, 'UNSUPPORTED_MEDIA_TYPE', { raw: JSON.stringify(providerBody()), headers: { 'content-type': 'application/json; charset=iso-8859-1' } }],
  ['PUT as text/plain', 'PUT', () => `/v1.0/providers/${live.id}`, undefined, 415, 'UNSUPPORTED_MEDIA_TYPE', { raw: JSON.stringify(providerBody()), headers: { 'content-type': 'text/plain;charset=UTF-8' } }],
  ['control character in a name', 'POST', () => '/v1.0/providers', providerBody({ name: 'a\u0007b' }), 400, 'INVALID_ARGUMENT'],
  ['line break in a detail', 'POST', () => '/v1.0/providers', providerBody({ detail: 'line one\nline two' }), 400, 'INVALID_ARGUMENT'],
  ['C1 control character in a detail', 'POST', () => '/v1.0/providers', providerBody({ detail: 'x\u0085y' }), 400, 'INVALID_ARGUMENT'],
  ['tab in a tech header value', 'POST', () => '/v1.0/providers', providerBody({ tech_headers: { 'X-A': 'a\tb' } }), 400, 'INVALID_TECH_HEADERS'],
  ['NUL in a tech header value', 'POST', () => '/v1.0/providers', providerBody({ tech_headers: { 'X-A': 'a\u0000b' } }), 400, 'INVALID_TECH_HEADERS'],
  ['lone surrogate in a tech header value', 'POST', () => '/v1.0/providers', undefined, 400, 'INVALID_TECH_HEADERS', { raw: '{"type":"sip","hostname":"a.com","tech_headers":{"X-A":"\\ud800"}}' }],
  ['lone surrogate in a name', 'POST', () => '/v1.0/providers', undefined, 400, 'INVALID_ARGUMENT', { raw: '{"type":"sip","hostname":"a.com","name":"x\\udc00y"}' }],
  ['invalid UTF-8 in a name', 'POST', () => '/v1.0/providers', undefined, 400, 'INVALID_ARGUMENT', { raw: Buffer.concat([Buffer.from('{"type":"sip","hostname":"a.com","name":"x'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]) }],
  ['invalid UTF-8 in a header value', 'POST', () => '/v1.0/providers', undefined, 400, 'INVALID_TECH_HEADERS', { raw: Buffer.concat([Buffer.from('{"type":"sip","hostname":"a.com","tech_headers":{"X-A":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]) }],
  ['control character in a key', 'POST', () => '/v1.0/providers', undefined, 400, 'INVALID_ARGUMENT', { raw: '{"type":"sip","hostname":"a.com","na\\u0001me":"x"}' }],
  ['PUT deleted provider', 'PUT', () => `/v1.0/providers/${deleted.id}`, providerBody(), 404, 'PROVIDER_NOT_FOUND'],
  ['GET bad UUID', 'GET', () => '/v1.0/providers/not-a-uuid', undefined, 400, 'INVALID_ID'],
  ['PUT bad UUID', 'PUT', () => '/v1.0/providers/1234', providerBody(), 400, 'INVALID_ID'],
  ['DELETE bad UUID', 'DELETE', () => '/v1.0/providers/zzzzzzzz-2222-4333-8444-555555555555', undefined, 400, 'INVALID_ID'],
  ['GET unknown id', 'GET', () => `/v1.0/providers/${UNKNOWN_ID}`, undefined, 404, 'PROVIDER_NOT_FOUND'],
  ['PUT unknown id', 'PUT', () => `/v1.0/providers/${UNKNOWN_ID}`, providerBody(), 404, 'PROVIDER_NOT_FOUND'],
  ['DELETE unknown id', 'DELETE', () => `/v1.0/providers/${UNKNOWN_ID}`, undefined, 404, 'PROVIDER_NOT_FOUND'],
  ['DELETE already deleted', 'DELETE', () => `/v1.0/providers/${deleted.id}`, undefined, 404, 'PROVIDER_NOT_FOUND'],
  ['page_token not a time', 'GET', () => '/v1.0/providers?page_token=yesterday', undefined, 400, 'INVALID_ARGUMENT'],
];

/** docs/api.md §9, "Carrier settings": each refused with the field's own reason. */
const CARRIER_CASES: Case[] = [
  ['auth_password without auth_username', 'POST', () => '/v1.0/providers', providerBody({ auth_password: 'secret pw' }), 400, 'INVALID_AUTH_PASSWORD'],
  ['auth_password with an empty auth_username', 'POST', () => '/v1.0/providers', providerBody({ auth_username: '', auth_password: 'secret pw' }), 400, 'INVALID_AUTH_PASSWORD'],
  ['auth_username without auth_password', 'POST', () => '/v1.0/providers', providerBody({ auth_username: 'user' }), 400, 'INVALID_AUTH_PASSWORD'],
  ['auth_username with an empty auth_password', 'POST', () => '/v1.0/providers', providerBody({ auth_username: 'user', auth_password: '' }), 400, 'INVALID_AUTH_PASSWORD'],
  ['auth_password of 257 characters', 'POST', () => '/v1.0/providers', providerBody({ auth_username: 'user', auth_password: 'p'.repeat(257) }), 400, 'INVALID_AUTH_PASSWORD'],
  ['auth_password a number', 'POST', () => '/v1.0/providers', providerBody({ auth_username: 'user', auth_password: 1234 }), 400, 'INVALID_AUTH_PASSWORD'],
  ['auth_password with a line break', 'POST', () => '/v1.0/providers', providerBody({ auth_username: 'user', auth_password: 'pass\nword' }), 400, 'INVALID_AUTH_PASSWORD'],
  ['auth_password with a lone surrogate', 'POST', () => '/v1.0/providers', undefined, 400, 'INVALID_AUTH_PASSWORD', { raw: '{"type":"sip","hostname":"a.com","auth_username":"u","auth_password":"p\\ud800"}' }],
  ['auth_username with a blank', 'POST', () => '/v1.0/providers', providerBody({ auth_username: 'a b', auth_password: 'pw' }), 400, 'INVALID_AUTH_USERNAME'],
  ['auth_username with a quote', 'POST', () => '/v1.0/providers', providerBody({ auth_username: 'a"b', auth_password: 'pw' }), 400, 'INVALID_AUTH_USERNAME'],
  ['auth_username with a backslash', 'POST', () => '/v1.0/providers', providerBody({ auth_username: 'a\\b', auth_password: 'pw' }), 400, 'INVALID_AUTH_USERNAME'],
  ['auth_username of 129 characters', 'POST', () => '/v1.0/providers', providerBody({ auth_username: 'u'.repeat(129), auth_password: 'pw' }), 400, 'INVALID_AUTH_USERNAME'],
  ['auth_username not a string', 'POST', () => '/v1.0/providers', providerBody({ auth_username: 7, auth_password: 'pw' }), 400, 'INVALID_AUTH_USERNAME'],
  ['auth_username with a control character', 'POST', () => '/v1.0/providers', providerBody({ auth_username: 'a\u0001', auth_password: 'pw' }), 400, 'INVALID_AUTH_USERNAME'],
  ['register without credentials', 'POST', () => '/v1.0/providers', providerBody({ register: true }), 400, 'INVALID_REGISTER'],
  ['register "yes"', 'POST', () => '/v1.0/providers', providerBody({ register: 'yes' }), 400, 'INVALID_REGISTER'],
  ['register 1', 'POST', () => '/v1.0/providers', providerBody({ register: 1 }), 400, 'INVALID_REGISTER'],
  ['register_expires 59', 'POST', () => '/v1.0/providers', providerBody({ register_expires: 59 }), 400, 'INVALID_REGISTER_EXPIRES'],
  ['register_expires 86401', 'POST', () => '/v1.0/providers', providerBody({ register_expires: 86401 }), 400, 'INVALID_REGISTER_EXPIRES'],
  ['register_expires 600.5', 'POST', () => '/v1.0/providers', providerBody({ register_expires: 600.5 }), 400, 'INVALID_REGISTER_EXPIRES'],
  ['register_expires "3600"', 'POST', () => '/v1.0/providers', providerBody({ register_expires: '3600' }), 400, 'INVALID_REGISTER_EXPIRES'],
  ['leading_plus "false"', 'POST', () => '/v1.0/providers', providerBody({ leading_plus: 'false' }), 400, 'INVALID_LEADING_PLUS'],
  ['leading_plus null', 'POST', () => '/v1.0/providers', providerBody({ leading_plus: null }), 400, 'INVALID_LEADING_PLUS'],
  ['transport sctp', 'POST', () => '/v1.0/providers', providerBody({ transport: 'sctp' }), 400, 'INVALID_TRANSPORT'],
  ['transport TCP (case)', 'POST', () => '/v1.0/providers', providerBody({ transport: 'TCP' }), 400, 'INVALID_TRANSPORT'],
  ['transport ws', 'POST', () => '/v1.0/providers', providerBody({ transport: 'ws' }), 400, 'INVALID_TRANSPORT'],
  ['transport a number', 'POST', () => '/v1.0/providers', providerBody({ transport: 5 }), 400, 'INVALID_TRANSPORT'],
  ['max_calls negative', 'POST', () => '/v1.0/providers', providerBody({ max_calls: -1 }), 400, 'INVALID_MAX_CALLS'],
  ['max_calls 1.5', 'POST', () => '/v1.0/providers', providerBody({ max_calls: 1.5 }), 400, 'INVALID_MAX_CALLS'],
  ['max_calls 100001', 'POST', () => '/v1.0/providers', providerBody({ max_calls: 100001 }), 400, 'INVALID_MAX_CALLS'],
  ['max_calls "2"', 'POST', () => '/v1.0/providers', providerBody({ max_calls: '2' }), 400, 'INVALID_MAX_CALLS'],
  ['max_cps negative', 'POST', () => '/v1.0/providers', providerBody({ max_cps: -0.5 }), 400, 'INVALID_MAX_CPS'],
  ['max_cps 1001', 'POST', () => '/v1.0/providers', providerBody({ max_cps: 1001 }), 400, 'INVALID_MAX_CPS'],
  ['max_cps "1"', 'POST', () => '/v1.0/providers', providerBody({ max_cps: '1' }), 400, 'INVALID_MAX_CPS'],
  ['POST with the read-only auth_password_set', 'POST', () => '/v1.0/providers', providerBody({ auth_password_set: true }), 400, 'INVALID_ARGUMENT'],
  ['POST with the read-only registration_status', 'POST', () => '/v1.0/providers', providerBody({ registration_status: 'registered' }), 400, 'INVALID_ARGUMENT'],
  ['the sealed column as a field', 'POST', () => '/v1.0/providers', providerBody({ auth_password_sealed: 'sb1.x.y' }), 400, 'INVALID_ARGUMENT'],
  ['PUT register on a provider without credentials', 'PUT', () => `/v1.0/providers/${live.id}`, providerBody({ register: true }), 400, 'INVALID_REGISTER'],
  ['PUT register, password removed', 'PUT', () => `/v1.0/providers/${credentialed.id}`, () => providerBody({ auth_username: 'trunk-user', auth_password: null, register: true }), 400, 'INVALID_AUTH_PASSWORD'],
  ['PUT a password without a user name', 'PUT', () => `/v1.0/providers/${credentialed.id}`, () => providerBody({ auth_password: 'new pw' }), 400, 'INVALID_AUTH_PASSWORD'],
  ['PUT a user name on a provider with no password stored', 'PUT', () => `/v1.0/providers/${live.id}`, providerBody({ auth_username: 'user' }), 400, 'INVALID_AUTH_PASSWORD'],
  ['PUT bad transport', 'PUT', () => `/v1.0/providers/${credentialed.id}`, () => providerBody({ auth_username: 'trunk-user', transport: 'udp6' }), 400, 'INVALID_TRANSPORT'],
  ['PUT negative max_cps', 'PUT', () => `/v1.0/providers/${credentialed.id}`, () => providerBody({ auth_username: 'trunk-user', max_cps: -1 }), 400, 'INVALID_MAX_CPS'],
];

const ROUTE_CASES: Case[] = [
  ['target without +', 'POST', () => '/v1.0/routes', routeBody(UNKNOWN_ID, { target: '1212' }), 400, 'INVALID_ARGUMENT'],
  ['target country name', 'POST', () => '/v1.0/routes', routeBody(UNKNOWN_ID, { target: 'us' }), 400, 'INVALID_ARGUMENT'],
  ['target of 16 digits', 'POST', () => '/v1.0/routes', routeBody(UNKNOWN_ID, { target: '+1234567890123456' }), 400, 'INVALID_ARGUMENT'],
  ['target bare +', 'POST', () => '/v1.0/routes', routeBody(UNKNOWN_ID, { target: '+' }), 400, 'INVALID_ARGUMENT'],
  ['priority 1.5', 'POST', () => '/v1.0/routes', routeBody(UNKNOWN_ID, { priority: 1.5 }), 400, 'INVALID_ARGUMENT'],
  ['priority "1"', 'POST', () => '/v1.0/routes', routeBody(UNKNOWN_ID, { priority: '1' }), 400, 'INVALID_ARGUMENT'],
  ['missing customer_id', 'POST', () => '/v1.0/routes', { provider_id: UNKNOWN_ID, priority: 1, target: 'all' }, 400, 'INVALID_ARGUMENT'],
  ['customer_id not a UUID', 'POST', () => '/v1.0/routes', routeBody(UNKNOWN_ID, { customer_id: 'acme' }), 400, 'INVALID_ID'],
  ['provider_id not a UUID', 'POST', () => '/v1.0/routes', routeBody('telnyx'), 400, 'INVALID_ID'],
  ['provider_id unknown', 'POST', () => '/v1.0/routes', routeBody(UNKNOWN_ID), 400, 'PROVIDER_NOT_FOUND'],
  ['route to a deleted provider', 'POST', () => '/v1.0/routes', () => routeBody(deleted.id), 400, 'PROVIDER_NOT_FOUND'],
  ['PUT route to a deleted provider', 'PUT', () => `/v1.0/routes/${route.id}`, () => ({ name: 'r', detail: '', provider_id: deleted.id, priority: 1, target: 'all' }), 400, 'PROVIDER_NOT_FOUND'],
  ['PUT route moving it to another customer', 'PUT', () => `/v1.0/routes/${route.id}`, () => routeBody(live.id, { customer_id: UNKNOWN_ID }), 400, 'INVALID_ARGUMENT'],
  ['PUT route with an unknown field', 'PUT', () => `/v1.0/routes/${route.id}`, () => ({ ...routeBody(live.id), colour: 'blue' }), 400, 'INVALID_ARGUMENT'],
  ['PUT route customer_id not a UUID', 'PUT', () => `/v1.0/routes/${route.id}`, () => routeBody(live.id, { customer_id: 'acme' }), 400, 'INVALID_ID'],
  ['route name with a line break', 'POST', () => '/v1.0/routes', () => routeBody(live.id, { name: 'a\r\nb' }), 400, 'INVALID_ARGUMENT'],
  ['route as text/plain', 'POST', () => '/v1.0/routes', undefined, 415, 'UNSUPPORTED_MEDIA_TYPE', { raw: '{}', headers: { 'content-type': 'text/plain' } }],
  ['PUT route unknown id', 'PUT', () => `/v1.0/routes/${UNKNOWN_ID}`, () => ({ provider_id: live.id, priority: 1, target: 'all' }), 404, 'ROUTE_NOT_FOUND'],
  ['GET route bad UUID', 'GET', () => '/v1.0/routes/42', undefined, 400, 'INVALID_ID'],
  ['GET route unknown id', 'GET', () => `/v1.0/routes/${UNKNOWN_ID}`, undefined, 404, 'ROUTE_NOT_FOUND'],
  ['DELETE route unknown id', 'DELETE', () => `/v1.0/routes/${UNKNOWN_ID}`, undefined, 404, 'ROUTE_NOT_FOUND'],
  ['list routes, customer_id not a UUID', 'GET', () => '/v1.0/routes?customer_id=acme', undefined, 400, 'INVALID_ID'],
  ['provider in use', 'DELETE', () => `/v1.0/providers/${live.id}`, undefined, 409, 'PROVIDER_IN_USE'],
];

const AUTH_CASES: Case[] = [
  ['no token', 'GET', () => '/v1.0/providers', undefined, 401, 'AUTHENTICATION_REQUIRED', { token: null }],
  ['expired token', 'GET', () => '/v1.0/providers', undefined, 401, 'INVALID_CREDENTIALS', { token: 'expired' }],
  ['forged token', 'GET', () => '/v1.0/providers', undefined, 401, 'INVALID_CREDENTIALS', { token: 'forged' }],
  ['token of a missing agent', 'GET', () => '/v1.0/providers', undefined, 401, 'INVALID_CREDENTIALS', { token: 'unknownAgent' }],
  ['malformed token', 'GET', () => '/v1.0/providers', undefined, 401, 'INVALID_CREDENTIALS', { token: 'not.a.jwt' }],
  ['Basic auth', 'GET', () => '/v1.0/routes', undefined, 401, 'INVALID_CREDENTIALS', { token: null, headers: { authorization: 'Basic YWRtaW46eA==' } }],
  ['not a ProjectSuperAdmin: list', 'GET', () => '/v1.0/providers', undefined, 403, 'PERMISSION_DENIED', { token: 'notSuperAdmin' }],
  ['not a ProjectSuperAdmin: create', 'POST', () => '/v1.0/providers', providerBody(), 403, 'PERMISSION_DENIED', { token: 'notSuperAdmin' }],
  ['not a ProjectSuperAdmin: routes', 'POST', () => '/v1.0/routes', routeBody(UNKNOWN_ID), 403, 'PERMISSION_DENIED', { token: 'notSuperAdmin' }],
  ['not a ProjectSuperAdmin: setup', 'POST', () => '/v1.0/providers/setup', {}, 403, 'PERMISSION_DENIED', { token: 'notSuperAdmin' }],
  ['auth before validation', 'POST', () => '/v1.0/providers', { junk: true }, 401, 'AUTHENTICATION_REQUIRED', { token: null }],
  ['wrong password', 'POST', () => '/auth/login', { username: 'admin', password: 'wrong' }, 401, 'INVALID_CREDENTIALS', { token: null }],
  ['unknown user', 'POST', () => '/v1.0/auth/login', { username: 'nobody', password: 'x' }, 401, 'INVALID_CREDENTIALS', { token: null }],
  ['login unknown field', 'POST', () => '/auth/login', { username: 'admin', password: 'x', otp: '1' }, 400, 'INVALID_ARGUMENT', { token: null }],
  ['login malformed JSON', 'POST', () => '/auth/login', undefined, 400, 'INVALID_JSON_BODY', { token: null, raw: '{username' }],
  ['unknown endpoint', 'GET', () => '/v1.0/dialplans', undefined, 404, 'ROUTE_NOT_FOUND', { token: null }],
  ['unknown method', 'PATCH', () => '/v1.0/providers', undefined, 404, 'ROUTE_NOT_FOUND', { token: null }],
];

const AGENT_CASES: Case[] = [
  ['missing password', 'POST', () => '/v1.0/agents', { username: 'x1', permission: 1 }, 400, 'INVALID_ARGUMENT'],
  ['password of 11 characters', 'POST', () => '/v1.0/agents', { username: 'x2', password: '12345678901', permission: 1 }, 400, 'INVALID_PASSWORD'],
  ['password of 257 characters', 'POST', () => '/v1.0/agents', { username: 'x3', password: 'p'.repeat(257), permission: 1 }, 400, 'INVALID_PASSWORD'],
  ['password with a line break', 'POST', () => '/v1.0/agents', { username: 'x4', password: 'twelve chars\nplus', permission: 1 }, 400, 'INVALID_PASSWORD'],
  ['username with a space', 'POST', () => '/v1.0/agents', { username: 'a b', password: 'long enough password', permission: 1 }, 400, 'INVALID_ARGUMENT'],
  ['empty username', 'POST', () => '/v1.0/agents', { username: '', password: 'long enough password', permission: 1 }, 400, 'INVALID_ARGUMENT'],
  ['username of 65 characters', 'POST', () => '/v1.0/agents', { username: 'u'.repeat(65), password: 'long enough password', permission: 1 }, 400, 'INVALID_ARGUMENT'],
  ['username with a control character', 'POST', () => '/v1.0/agents', { username: 'a\u0000', password: 'long enough password', permission: 1 }, 400, 'INVALID_ARGUMENT'],
  ['permission above 0xFFFF', 'POST', () => '/v1.0/agents', { username: 'x5', password: 'long enough password', permission: 0x10000 }, 400, 'INVALID_ARGUMENT'],
  ['permission negative', 'POST', () => '/v1.0/agents', { username: 'x6', password: 'long enough password', permission: -1 }, 400, 'INVALID_ARGUMENT'],
  ['permission as a string', 'POST', () => '/v1.0/agents', { username: 'x7', password: 'long enough password', permission: '1' }, 400, 'INVALID_ARGUMENT'],
  ['VoIPBIN-only field ring_method', 'POST', () => '/v1.0/agents', { username: 'x8', password: 'long enough password', permission: 1, ring_method: 'ringall' }, 400, 'INVALID_ARGUMENT'],
  ['username already live', 'POST', () => '/v1.0/agents', { username: 'admin', password: 'long enough password', permission: 1 }, 409, 'AGENT_EXISTS'],
  ['agents as text/plain', 'POST', () => '/v1.0/agents', undefined, 415, 'UNSUPPORTED_MEDIA_TYPE', { raw: '{}', headers: { 'content-type': 'text/plain' } }],
  ['GET bad UUID', 'GET', () => '/v1.0/agents/nope', undefined, 400, 'INVALID_ID'],
  ['GET unknown agent', 'GET', () => `/v1.0/agents/${UNKNOWN_ID}`, undefined, 404, 'AGENT_NOT_FOUND'],
  ['PUT unknown agent', 'PUT', () => `/v1.0/agents/${UNKNOWN_ID}`, { name: 'x' }, 404, 'AGENT_NOT_FOUND'],
  ['PUT changing the username', 'PUT', () => `/v1.0/agents/${other.id}`, { username: 'renamed', name: 'x' }, 400, 'INVALID_ARGUMENT'],
  ['PUT with a password (write-only, own endpoint)', 'PUT', () => `/v1.0/agents/${other.id}`, { name: 'x', password: 'long enough password' }, 400, 'INVALID_ARGUMENT'],
  ['PUT unknown field', 'PUT', () => `/v1.0/agents/${other.id}`, { name: 'x', colour: 'blue' }, 400, 'INVALID_ARGUMENT'],
  ['PUT permission missing', 'PUT', () => `/v1.0/agents/${other.id}/permission`, {}, 400, 'INVALID_ARGUMENT'],
  ['PUT permission 1.5', 'PUT', () => `/v1.0/agents/${other.id}/permission`, { permission: 1.5 }, 400, 'INVALID_ARGUMENT'],
  ['demote the last ProjectSuperAdmin', 'PUT', () => `/v1.0/agents/${adminId}/permission`, { permission: 0x0020 }, 409, 'LAST_PROJECT_SUPER_ADMIN'],
  ['demote the last ProjectSuperAdmin by PUT', 'PUT', () => `/v1.0/agents/${adminId}`, { name: 'admin', permission: 0 }, 409, 'LAST_PROJECT_SUPER_ADMIN'],
  ['delete the last ProjectSuperAdmin', 'DELETE', () => `/v1.0/agents/${adminId}`, undefined, 409, 'LAST_PROJECT_SUPER_ADMIN'],
  ['DELETE unknown agent', 'DELETE', () => `/v1.0/agents/${UNKNOWN_ID}`, undefined, 404, 'AGENT_NOT_FOUND'],
  ['own password without old_password', 'PUT', () => `/v1.0/agents/${adminId}/password`, { password: 'a new long password' }, 400, 'INVALID_OLD_PASSWORD'],
  ['own password with a wrong old_password', 'PUT', () => `/v1.0/agents/${adminId}/password`, { password: 'a new long password', old_password: 'not the password' }, 400, 'INVALID_OLD_PASSWORD'],
  ['new password too short', 'PUT', () => `/v1.0/agents/${other.id}/password`, { password: 'short' }, 400, 'INVALID_PASSWORD'],
  ['password of an unknown agent', 'PUT', () => `/v1.0/agents/${UNKNOWN_ID}/password`, { password: 'a new long password' }, 404, 'AGENT_NOT_FOUND'],
  ['password body unknown field', 'PUT', () => `/v1.0/agents/${other.id}/password`, { password: 'a new long password', otp: 1 }, 400, 'INVALID_ARGUMENT'],
  ["another agent's password, not a ProjectSuperAdmin", 'PUT', () => `/v1.0/agents/${other.id}/password`, { password: 'a new long password' }, 403, 'PERMISSION_DENIED', { token: 'notSuperAdmin' }],
];

const ACCESS_KEY_CASES: Case[] = [
  ['expire 0', 'POST', () => '/v1.0/accesskeys', { name: 'k', expire: 0 }, 400, 'INVALID_ARGUMENT'],
  ['expire negative', 'POST', () => '/v1.0/accesskeys', { name: 'k', expire: -5 }, 400, 'INVALID_ARGUMENT'],
  ['expire over ten years', 'POST', () => '/v1.0/accesskeys', { name: 'k', expire: 400_000_000 }, 400, 'INVALID_ARGUMENT'],
  ['expire as a string', 'POST', () => '/v1.0/accesskeys', { name: 'k', expire: '3600' }, 400, 'INVALID_ARGUMENT'],
  ['unknown field', 'POST', () => '/v1.0/accesskeys', { name: 'k', token: 'mine' }, 400, 'INVALID_ARGUMENT'],
  ['agent_id not a UUID', 'POST', () => '/v1.0/accesskeys', { agent_id: 'me' }, 400, 'INVALID_ID'],
  ['agent_id of no agent', 'POST', () => '/v1.0/accesskeys', { agent_id: UNKNOWN_ID }, 400, 'AGENT_NOT_FOUND'],
  ["a key for another agent, not a ProjectSuperAdmin", 'POST', () => '/v1.0/accesskeys', () => ({ agent_id: adminId }), 403, 'PERMISSION_DENIED', { token: 'notSuperAdmin' }],
  ['name with a line break', 'POST', () => '/v1.0/accesskeys', { name: 'a\nb' }, 400, 'INVALID_ARGUMENT'],
  ['as text/plain', 'POST', () => '/v1.0/accesskeys', undefined, 415, 'UNSUPPORTED_MEDIA_TYPE', { raw: '{}', headers: { 'content-type': 'text/plain' } }],
  ['GET bad UUID', 'GET', () => '/v1.0/accesskeys/x', undefined, 400, 'INVALID_ID'],
  ['GET unknown key', 'GET', () => `/v1.0/accesskeys/${UNKNOWN_ID}`, undefined, 404, 'ACCESS_KEY_NOT_FOUND'],
  ["GET another agent's key", 'GET', () => `/v1.0/accesskeys/${accessKey.id}`, undefined, 404, 'ACCESS_KEY_NOT_FOUND', { token: 'notSuperAdmin' }],
  ["DELETE another agent's key", 'DELETE', () => `/v1.0/accesskeys/${accessKey.id}`, undefined, 404, 'ACCESS_KEY_NOT_FOUND', { token: 'notSuperAdmin' }],
  ['PUT unknown field', 'PUT', () => `/v1.0/accesskeys/${accessKey.id}`, { name: 'x', expire: 60 }, 400, 'INVALID_ARGUMENT'],
  ['DELETE unknown key', 'DELETE', () => `/v1.0/accesskeys/${UNKNOWN_ID}`, undefined, 404, 'ACCESS_KEY_NOT_FOUND'],
  ['no credential', 'GET', () => '/v1.0/accesskeys', undefined, 401, 'AUTHENTICATION_REQUIRED', { token: null }],
  ['unknown access key', 'GET', () => '/v1.0/providers?accesskey=od_not-a-key', undefined, 401, 'INVALID_CREDENTIALS', { token: null }],
  ['unknown access key cookie', 'GET', () => '/v1.0/providers', undefined, 401, 'INVALID_CREDENTIALS', { token: null, headers: { cookie: 'accesskey=od_not-a-key' } }],
];

const setupBody = (over: Record<string, unknown> = {}) => ({ carrier: 'telnyx', name: 'n', detail: 'd', credentials: { api_key: 'KEY_0123456789' }, ...over });
const SETUP_CASES: Case[] = [
  ['no name', 'POST', () => '/v1.0/providers/setup', { carrier: 'telnyx', credentials: { api_key: 'KEY_0123456789' } }, 400, 'INVALID_ARGUMENT'],
  ['an empty name', 'POST', () => '/v1.0/providers/setup', setupBody({ name: '' }), 400, 'INVALID_ARGUMENT'],
  ['a name with a line break', 'POST', () => '/v1.0/providers/setup', setupBody({ name: 'a\nb' }), 400, 'INVALID_ARGUMENT'],
  ['a line break inside the key', 'POST', () => '/v1.0/providers/setup', setupBody({ credentials: { api_key: 'KEY_0123\n456789' } }), 400, 'INVALID_API_KEY'],
  ['a blank inside the key', 'POST', () => '/v1.0/providers/setup', setupBody({ credentials: { api_key: 'KEY_0123 456789' } }), 400, 'INVALID_API_KEY'],
  ['a key of blanks', 'POST', () => '/v1.0/providers/setup', setupBody({ credentials: { api_key: '  ' } }), 400, 'INVALID_API_KEY'],
  ['a key with a lone surrogate', 'POST', () => '/v1.0/providers/setup', undefined, 400, 'INVALID_API_KEY', { raw: '{"carrier":"telnyx","name":"n","credentials":{"api_key":"KEY\\ud800"}}' }],
  ['codecs', 'POST', () => '/v1.0/providers/setup', setupBody({ codecs: 'PCMU' }), 400, 'INVALID_ARGUMENT'],
  ['metadata', 'POST', () => '/v1.0/providers/setup', setupBody({ metadata: {} }), 400, 'INVALID_ARGUMENT'],
  ['as text/plain', 'POST', () => '/v1.0/providers/setup', undefined, 415, 'UNSUPPORTED_MEDIA_TYPE', { raw: JSON.stringify(setupBody()), headers: { 'content-type': 'text/plain' } }],
  ['no carrier adapter for it', 'POST', () => '/v1.0/providers/setup', setupBody({ carrier: 'bandwidth' }), 400, 'UNSUPPORTED_CARRIER'],
];

describe.each([
  ['provider setup', SETUP_CASES],
  ['providers', PROVIDER_CASES],
  ['carrier settings', CARRIER_CASES],
  ['routes', ROUTE_CASES],
  ['auth', AUTH_CASES],
  ['agents', AGENT_CASES],
  ['access keys', ACCESS_KEY_CASES],
])('bad %s input', (_group, cases) => {
  it.each(cases)('%s: refused, nothing written', async (_label, method, path, body, status, reason, opts = {}) => {
    const before = await fingerprint();
    const token = opts.token === undefined ? tokens.admin : opts.token === null ? null : (tokens[opts.token] ?? opts.token);
    const b: unknown = typeof body === 'function' ? (body as () => unknown)() : body;
    const r = await t.request(method, path(), { ...opts, token, ...(b !== undefined ? { body: b } : {}) });
    expect({ status: r.status, reason: r.body?.error?.reason }).toEqual({ status, reason });
    expect(r.body.error.request_id).toBe(r.headers.get('x-request-id'));
    expect(r.body.error.message).toBeTypeOf('string');
    // a refused password is never repeated, nor the stored one
    expect(r.text).not.toContain('secret pw');
    expect(r.text).not.toContain(TRUNK_PASSWORD);
    expect(await fingerprint()).toBe(before);
  });
});

describe('error envelope', () => {
  it('echoes the client X-Request-Id', async () => {
    const r = await t.request('GET', `/v1.0/providers/${UNKNOWN_ID}`, { headers: { 'X-Request-Id': 'abc-123' } });
    expect(r.headers.get('x-request-id')).toBe('abc-123');
    expect(r.body.error).toEqual({ status: 'NOT_FOUND', reason: 'PROVIDER_NOT_FOUND', message: expect.any(String), request_id: 'abc-123' });
  });

  it('PROVIDER_IN_USE lists the routes that use the provider', async () => {
    const r = await t.request('DELETE', `/v1.0/providers/${live.id}`);
    expect(r.status).toBe(409);
    expect(r.body.error.details).toEqual({ route_ids: [route.id] });
    expect(r.body.error.message).toContain(route.id);
    // once the route is gone the provider can go
    expect((await t.request('POST', '/v1.0/routes', { body: routeBody(live.id, { target: '+1' }) })).status).toBe(200);
  });
});
