import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readCsv, showTable, tableHtml, toDataFrame, writeCsv } from '../src/plots';
import { isNotebook, size } from '../src/notebook';

const rows = [
  { method: 'BWN', testAccuracy: 0.8933, memoryKB: 36 },
  { method: 'TWN, 0.7 threshold', testAccuracy: 0.9013, memoryKB: 70, note: 'say "hi"' },
];

test('toDataFrame keeps every column of every row', () => {
  const df = toDataFrame(rows);
  assert.deepEqual(df.columns, ['method', 'testAccuracy', 'memoryKB', 'note']);
  assert.deepEqual(df.shape, [2, 4]);
});

test('writeCsv writes through danfo and reads back (quoted commas and quotes survive)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-csv-'));
  try {
    const file = path.join(dir, 'sub', 'table.csv');
    writeCsv(rows, file);
    const text = fs.readFileSync(file, 'utf8');
    assert.equal(text.split('\n')[0], 'method,testAccuracy,memoryKB,note');
    const back = await readCsv(file);
    assert.equal(back.length, 2);
    assert.deepEqual(back[0], { method: 'BWN', testAccuracy: 0.8933, memoryKB: 36, note: back[0].note });
    assert.equal(back[1].method, 'TWN, 0.7 threshold');
    assert.equal(back[1].note, 'say "hi"');
    assert.equal(back[1].testAccuracy, 0.9013);
    assert.throws(() => writeCsv(rows, path.join(dir, 'x.txt')), /must end in \.csv/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tableHtml escapes and formats', () => {
  const html = tableHtml([{ a: '<b>', x: 1 / 3, n: 7 }], { digits: 3, caption: 'T' });
  assert.ok(html.includes('&lt;b&gt;'));
  assert.ok(html.includes('>0.333<'));
  assert.ok(html.includes('>7<'));
  assert.ok(html.includes('<caption>T</caption>'));
});

test('outside a notebook: isNotebook is false and showTable prints', (t) => {
  assert.equal(isNotebook(), false);
  const lines: unknown[] = [];
  t.mock.method(console, 'table', (x: unknown) => lines.push(x));
  showTable(rows);
  assert.equal(lines.length, 1);
});

test('size() reads QNNLAB_SIZE', () => {
  const old = process.env.QNNLAB_SIZE;
  try {
    delete process.env.QNNLAB_SIZE;
    assert.equal(size(), 'full');
    process.env.QNNLAB_SIZE = 'ci';
    assert.equal(size(), 'ci');
    process.env.QNNLAB_SIZE = 'huge';
    assert.throws(() => size(), /QNNLAB_SIZE/);
  } finally {
    if (old === undefined) delete process.env.QNNLAB_SIZE;
    else process.env.QNNLAB_SIZE = old;
  }
});
