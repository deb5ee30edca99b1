import { describe, expect, it } from 'vitest';
import { parseCustomerHeader } from './customer.ts';
import { DEFAULT_CUSTOMER_ID } from './model.ts';

describe('parseCustomerHeader', () => {
  it.each([
    [undefined, DEFAULT_CUSTOMER_ID],
    [null, DEFAULT_CUSTOMER_ID],
    [[], DEFAULT_CUSTOMER_ID],
    ['5e4a0680-804e-11ec-8477-2fea5968d85b', '5e4a0680-804e-11ec-8477-2fea5968d85b'],
    ['5E4A0680-804E-11EC-8477-2FEA5968D85B', '5e4a0680-804e-11ec-8477-2fea5968d85b'],
    ['  5e4a0680-804e-11ec-8477-2fea5968d85b ', '5e4a0680-804e-11ec-8477-2fea5968d85b'],
    [DEFAULT_CUSTOMER_ID, DEFAULT_CUSTOMER_ID],
    [['5e4a0680-804e-11ec-8477-2fea5968d85b', '5E4A0680-804E-11EC-8477-2FEA5968D85B'], '5e4a0680-804e-11ec-8477-2fea5968d85b'],
  ])('%j → %s', (value, customerId) => {
    expect(parseCustomerHeader(value)).toEqual({ ok: true, customerId });
  });

  it.each([
    [''],
    ['   '],
    ['not-a-uuid'],
    ['5e4a0680804e11ec84772fea5968d85b'],
    ['{5e4a0680-804e-11ec-8477-2fea5968d85b}'],
    ['5e4a0680-804e-11ec-8477-2fea5968d85'],
    ['5e4a0680-804e-11ec-8477-2fea5968d85bb'],
    ['5e4a0680-804e-11ec-8477-2fea5968d85g'],
    ['5e4a0680-804e-11ec-8477-2fea5968d85b, 5e4a0680-804e-11ec-8477-2fea5968d85b'],
    [['5e4a0680-804e-11ec-8477-2fea5968d85b', '00000000-0000-0000-0000-000000000002']],
  ])('%j → 400', (value) => {
    const r = parseCustomerHeader(value);
    expect(r).toMatchObject({ ok: false, status: 400 });
  });
});
