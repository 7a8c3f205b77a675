import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareVersions,
  parseGoVersion,
  parseJavaMajor,
  parsePythonVersion,
  parseTemporalVersion,
  parseVersion,
  temporalCliAcceptable,
} from '../../stack/setup/versions';

describe('version parsing', () => {
  it('reads Java majors from both version schemes', () => {
    assert.equal(
      parseJavaMajor(
        'openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)',
      ),
      17,
    );
    assert.equal(parseJavaMajor('java version "1.8.0_392"\nJava(TM) SE Runtime Environment'), 8);
    assert.equal(parseJavaMajor('openjdk version "21" 2023-09-19'), 21);
    assert.equal(parseJavaMajor('bash: java: command not found'), undefined);
  });

  it('reads Go and Python versions', () => {
    assert.deepEqual(parseGoVersion('go version go1.26.8 linux/amd64'), [1, 26, 8]);
    assert.deepEqual(parseGoVersion('go version go1.25 darwin/arm64'), [1, 25]);
    assert.equal(parseGoVersion('command not found'), undefined);
    assert.deepEqual(parsePythonVersion('Python 3.11.7'), [3, 11, 7]);
    assert.equal(parsePythonVersion('pyenv: python3.11: command not found'), undefined);
  });

  it('compares versions with missing parts as zero', () => {
    assert.equal(compareVersions([1, 25], [1, 25, 0]), 0);
    assert.ok(compareVersions([1, 26, 8], [1, 25]) > 0);
    assert.ok(compareVersions([1, 24, 9], [1, 25]) < 0);
    assert.ok(compareVersions(parseVersion('v1.10.0')!, parseVersion('1.9.9')!) > 0);
  });
});

describe('Temporal CLI version rule', () => {
  it('judges a go-installed build (CLI 0.0.0-DEV) by the server it embeds', () => {
    const v = parseTemporalVersion('temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)')!;
    assert.deepEqual(v, { cli: '0.0.0-DEV', server: '1.29.1', devBuild: true });
    assert.equal(temporalCliAcceptable(v).ok, true);
  });

  it('accepts released CLIs embedding a new enough server, rejects older ones', () => {
    assert.equal(
      temporalCliAcceptable(parseTemporalVersion('temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)')!).ok,
      true,
    );
    assert.equal(
      temporalCliAcceptable(parseTemporalVersion('temporal version 1.6.0 (Server 1.30.0, UI 2.44.0)')!).ok,
      true,
    );
    const old = temporalCliAcceptable(parseTemporalVersion('temporal version 1.1.2 (Server 1.25.2, UI 2.32.0)')!);
    assert.equal(old.ok, false);
    assert.match(old.reason, /1\.25\.2.*need ≥ 1\.29\.1/);
  });

  it('falls back to the CLI version when no server version is printed', () => {
    assert.equal(temporalCliAcceptable(parseTemporalVersion('temporal version 1.5.1')!).ok, true);
    assert.equal(temporalCliAcceptable(parseTemporalVersion('temporal version 1.4.0')!).ok, false);
    assert.equal(temporalCliAcceptable(parseTemporalVersion('temporal version 0.0.0-DEV')!).ok, false);
    assert.equal(parseTemporalVersion('tctl version 1.18'), undefined);
  });
});
