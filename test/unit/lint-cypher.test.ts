import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** `npm run lint:cypher` as CI runs it: a real process on real files. */
function lint(...files: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/lint-cypher.ts', ...files], { encoding: 'utf8' });
  return { status: result.status, out: result.stdout + result.stderr };
}

describe('lint:cypher', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cypher-lint-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fails on a file that does not parse, naming file, line and column', () => {
    const good = path.join(dir, 'good.cypher');
    const broken = path.join(dir, 'broken.cypher');
    writeFileSync(good, '// fine\nMATCH (u:User {id: $userId})\nRETURN u.id;\n');
    writeFileSync(broken, 'MATCH (u:User {id: $userId})\nWHERE u.id = $userId\nRETURN u.id ORDER BY\n');
    const result = lint(good, broken);
    assert.equal(result.status, 1);
    assert.match(result.out, new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: `));
    assert.doesNotMatch(result.out, /good\.cypher:/);
    assert.match(result.out, /2 files, \d+ errors/);
  });

  it('catches semantic errors too (an undefined variable), and passes the project’s own files', () => {
    const undefinedVariable = path.join(dir, 'variable.cypher');
    writeFileSync(undefinedVariable, 'MATCH (n:Item)\nRETURN m\n');
    const result = lint(undefinedVariable);
    assert.equal(result.status, 1);
    assert.match(result.out, /variable\.cypher:2:8: Variable `m` not defined/);
    const project = lint('cypher');
    assert.equal(project.status, 0, project.out);
    assert.match(project.out, /no errors/);
  });

  it('exits 2 for a path that does not exist', () => {
    assert.equal(lint(path.join(dir, 'missing.cypher')).status, 2);
  });
});
