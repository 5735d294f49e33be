// Tests of the case language (pkg/conformance/parse.ts): words, integer
// expressions, strings, argument alignment, $fd binding and case files.

import test from 'ava';

import { calls } from '../../pkg/conformance/calls';
import {
  ParseError, alignWords, parseCases, parseCreds, parseIovList, parseStep, resolveInt, resolveString, tokenize,
} from '../../pkg/conformance/parse';
import { AT_FDCWD, O_CREAT, O_WRONLY, S_IFIFO } from '../../pkg/abi/linux/file';

test('tokenize keeps quoted strings whole, with their *N and + tails', (t) => {
  const table: Array<[string, string[]]> = [
    ['openat AT_FDCWD /a O_CREAT|O_WRONLY 0644', ['openat', 'AT_FDCWD', '/a', 'O_CREAT|O_WRONLY', '0644']],
    ['write $fd0 "hello world"', ['write', '$fd0', '"hello world"']],
    ['stat "a"*3+"/b c"', ['stat', '"a"*3+"/b c"']],
    ['write $fd0 "say \\"hi\\""  # comment', ['write', '$fd0', '"say \\"hi\\""']],
    ['  \t', []],
  ];
  for (const [line, want] of table) t.deepEqual(tokenize(line), want, line);
  t.throws(() => tokenize('write $fd0 "open'), { message: /unterminated/ });
});

test('resolveInt: decimal, octal (leading 0, as C), hex, negative, constants, | and $fd', (t) => {
  const fds = new Map([[0, 7], [1, 9]]);
  const table: Array<[string, number]> = [
    ['10', 10], ['0644', 0o644], ['0', 0], ['0x1f', 31], ['-1', -1],
    ['AT_FDCWD', AT_FDCWD], ['O_CREAT|O_WRONLY', O_CREAT | O_WRONLY], ['S_IFIFO|0600', S_IFIFO | 0o600],
    ['$fd1', 9], ['$fd5', 9999],
  ];
  for (const [w, want] of table) t.is(resolveInt(w, fds), want, w);
  t.throws(() => resolveInt('O_BOGUS', null), { message: /unknown constant/ });
});

test('resolveString: bare words, escapes, repetition, concatenation, NULL', (t) => {
  t.is(resolveString('a/b'), 'a/b');
  t.is(resolveString('""'), '');
  t.is(resolveString('"a\\tb\\n\\x41\\0"'), 'a\tb\nA\0');
  t.is(resolveString('"ab"*3'), 'ababab');
  t.is(resolveString('"d/"*2+"x"'), 'd/d/x');
  t.is(resolveString('NULL'), null);
  t.is(resolveString('"n"*256')?.length, 256);
});

test('alignWords: len words default to their buffer size; trailing ints to 0', (t) => {
  const write = calls.get('write')!;
  t.deepEqual(alignWords(write, ['$fd0', '"abc"']), ['$fd0', '"abc"', undefined]);
  t.deepEqual(alignWords(write, ['$fd0', '"abc"', '2']), ['$fd0', '"abc"', '2']);
  const openat = calls.get('openat')!;
  t.deepEqual(alignWords(openat, ['AT_FDCWD', 'a', 'O_RDONLY']), ['AT_FDCWD', 'a', 'O_RDONLY', undefined]);
  const pwrite = calls.get('pwrite64')!;
  t.deepEqual(alignWords(pwrite, ['$fd0', '"x"', '_', '5']), ['$fd0', '"x"', undefined, '5']);
  t.throws(() => alignWords(calls.get('rename')!, ['a']), { message: /takes 2 arguments/ });
});

test('parseStep: unknown calls and bad words are errors', (t) => {
  t.is(parseStep('openat AT_FDCWD a O_CREAT 0644', 1, 3).fdBind, 3);
  t.is(parseStep('close $fd0', 1, 3).fdBind, -1);
  t.is(parseStep('fcntl $fd0 F_DUPFD 10', 1, 2).fdBind, 2);
  t.is(parseStep('fcntl $fd0 F_GETFL', 1, 2).fdBind, -1);
  t.throws(() => parseStep('frobnicate a', 1, 0), { message: /unknown system call/ });
  t.throws(() => parseStep('chmod a O_NOPE', 1, 0), { message: /unknown constant/ });
  t.throws(() => parseStep('utimensat AT_FDCWD a 1:2:3 0', 1, 0), { message: /times/ });
});

test('parseCreds: UID:GID and supplementary groups', (t) => {
  t.deepEqual(parseCreds('1000:1000'), { uid: 1000, gid: 1000, groups: [] });
  t.deepEqual(parseCreds('1:2:3,4'), { uid: 1, gid: 2, groups: [3, 4] });
  t.throws(() => parseCreds('root'));
});

test('parseCases: setup before "as", body after; $fd names count over the whole case', (t) => {
  const src = [
    '# a comment',
    'case one',
    '  openat AT_FDCWD a O_CREAT|O_WRONLY 0644',
    '  pipe2 0',
    '  as 1000:1000',
    '  openat AT_FDCWD a O_RDONLY',
    '  close $fd3',
    '',
    'case two as 5:6',
    '  stat a',
  ].join('\n');
  const cs = parseCases(src, 'f.cases', 'g');
  t.is(cs.length, 2);
  const [one, two] = cs;
  t.is(one!.name, 'g/one');
  t.deepEqual(one!.setup.map((s) => s.fdBind), [0, 1]);
  t.deepEqual(one!.body.map((s) => s.fdBind), [3, -1]);
  t.deepEqual(one!.as, { uid: 1000, gid: 1000, groups: [] });
  t.is(two!.setup.length, 0);
  t.is(two!.body.length, 1);
  t.deepEqual(two!.as, { uid: 5, gid: 6, groups: [] });
  // The text round-trips: the host worker parses it again.
  t.deepEqual(parseCases(one!.text, 'x', 'g')[0]!.body.map((s) => s.text), one!.body.map((s) => s.text));
});

test('parseCases: errors carry file and line', (t) => {
  const bad: Array<[string, RegExp]> = [
    ['  stat a', /outside a case/],
    ['case x\n  bogus a', /f.cases:2: unknown system call/],
    ['case x\ncase x\n  stat a', /no calls/],
    ['case x\n  stat a\ncase x\n  stat a', /duplicate case/],
    ['case x\n  as 1:1\n  as 2:2', /at most one "as"/],
    ['nonsense', /expected "case NAME/],
  ];
  for (const [src, re] of bad) {
    const err = t.throws(() => parseCases(src, 'f.cases', 'g'));
    t.true(err instanceof ParseError, src);
    t.regex(err.message, re);
  }
});

test('iovec lists: items split at commas outside quotes, *N repeats the list, NULL', (t) => {
  const table: Array<[string, string[] | null]> = [
    ['[3,0,5]', ['3', '0', '5']],
    ['[]', []],
    ['["a,b","c"]', ['"a,b"', '"c"']],
    ['["x"]*3', ['"x"', '"x"', '"x"']],
    ['[1,2]*2', ['1', '2', '1', '2']],
    ['NULL', null],
  ];
  for (const [w, want] of table) t.deepEqual(parseIovList(w), want, w);
  for (const bad of ['3,5', '[1,,2]', '["open]', '[1]*']) t.throws(() => parseIovList(bad), undefined, bad);
  // readv takes sizes, writev strings; each word is checked at parse time.
  t.notThrows(() => parseStep('readv $fd0 [1]*1025', 1, 0));
  t.notThrows(() => parseStep('pwritev $fd0 ["ab","cd"] 7', 1, 0));
  t.throws(() => parseStep('readv $fd0 [O_BOGUS]', 1, 0), { message: /unknown constant/ });
});

test('chroot, mount and umount2 paths stay in the case directory: relative, no ".."', (t) => {
  for (const ok of ['chroot d', 'chroot NULL', 'chroot ""', 'mount none m tmpfs 0 "mode=0700"', 'mount src dst NULL MS_BIND NULL',
    'mount none m /not/checked/type 0 /data/not/checked', 'umount2 m/n MNT_DETACH', 'umount2 . 0']) {
    t.notThrows(() => parseStep(ok, 1, 0), ok);
  }
  for (const bad of ['chroot /', 'chroot ..', 'chroot d/../..', 'mount none /mnt tmpfs 0 NULL', 'mount / m NULL MS_BIND NULL',
    'umount2 ../x 0', 'umount2 "/tmp" 0']) {
    t.throws(() => parseStep(bad, 1, 0), { message: /case directory/ }, bad);
  }
  // Other calls may use absolute paths (after a chroot they mean the new root).
  t.notThrows(() => parseStep('stat /f', 1, 0));
  t.true(calls.get('chroot')!.isolated);
  t.falsy(calls.get('chdir')!.isolated);
});
