import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shape of the house, checked: which folder may import which, the GNN reached only through its
 * public face, tensors kept below the embedding service, no folder loops, small route files, and the
 * embedded default never loading the Neo4j driver.
 */
const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
const SOURCE_FOLDERS = ['base', 'graph', 'gnn', 'src', 'scripts'];

interface ImportSite {
  /** The importing file, relative to the repository root. */
  readonly file: string;
  /** What it imports: a repository-relative path for relative imports, else the package name as written. */
  readonly target: string;
  readonly line: number;
}

function sourceFiles(folder: string): string[] {
  const files: string[] = [];
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) visit(path);
      else if (name.endsWith('.ts')) files.push(relative(ROOT, path));
    }
  };
  visit(join(ROOT, folder));
  return files;
}

/** Static imports, re-exports and dynamic `import('…')` of each file. */
function importsOf(file: string): ImportSite[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const sites: ImportSite[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;
  for (const match of text.matchAll(pattern)) {
    const spec = match[1]!;
    const line = text.slice(0, match.index).split('\n').length;
    const target = spec.startsWith('.') ? normalize(join(dirname(file), spec)) : spec;
    sites.push({ file, target, line });
  }
  return sites;
}

const FILES = SOURCE_FOLDERS.flatMap(sourceFiles);
const IMPORTS = FILES.flatMap(importsOf);
const topFolder = (path: string): string => path.split('/')[0]!;
const show = (sites: readonly ImportSite[]): string => sites.map((s) => `${s.file}:${s.line} imports ${s.target}`).join('\n');

describe('architecture', () => {
  it('finds the source files and their imports (so that the checks below check something)', () => {
    assert.ok(FILES.length > 100, `only ${FILES.length} files found`);
    assert.ok(IMPORTS.some((s) => s.target === 'gnn/index.ts'));
  });

  it('reaches the GNN only through gnn/index.ts', () => {
    const inside = IMPORTS.filter((s) => topFolder(s.file) !== 'gnn' && topFolder(s.target) === 'gnn' && s.target !== 'gnn/index.ts');
    assert.deepEqual(inside, [], show(inside));
  });

  it('keeps the layers below src/ free of it: base/ stands alone, graph/ on base/, gnn/ on graph/ and base/', () => {
    const allowed: Record<string, readonly string[]> = { base: ['base'], graph: ['graph', 'base'], gnn: ['gnn', 'graph', 'base'] };
    const wrong = IMPORTS.filter((s) => {
      const from = allowed[topFolder(s.file)];
      return (
        from !== undefined &&
        !s.target.startsWith('node:') &&
        s.target.includes('/') &&
        SOURCE_FOLDERS.includes(topFolder(s.target)) &&
        !from.includes(topFolder(s.target))
      );
    });
    assert.deepEqual(wrong, [], show(wrong));
  });

  it('keeps tensors below the embedding service: only gnn/ imports TensorFlow.js (and two named exceptions)', () => {
    // SASRec is an evaluation baseline with its own network on the GAT's backend; bench-backends times raw kernels.
    const exceptions = new Set(['src/evaluation/sasrec-network.ts', 'scripts/bench-backends.ts']);
    const wrong = IMPORTS.filter((s) => s.target.startsWith('@tensorflow/') && topFolder(s.file) !== 'gnn' && !exceptions.has(s.file));
    assert.deepEqual(wrong, [], show(wrong));
  });

  it('has no loop between folders (src/ counted by its sub-folders)', () => {
    const unit = (path: string): string => {
      const parts = path.split('/');
      return parts[0] === 'src' && parts.length > 2
        ? `src/${parts[1]}`
        : path
            .replace(/\.ts$/, '')
            .split('/')
            .slice(0, parts[0] === 'src' ? 2 : 1)
            .join('/');
    };
    const edges = new Map<string, Set<string>>();
    for (const s of IMPORTS) {
      if (!SOURCE_FOLDERS.includes(topFolder(s.target))) continue;
      const [a, b] = [unit(s.file), unit(s.target)];
      if (a !== b) edges.set(a, (edges.get(a) ?? new Set()).add(b));
    }
    // Depth-first search for a back edge; the loop found is reported as a path.
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const loopFrom = (node: string): string[] | null => {
      state.set(node, 'open');
      stack.push(node);
      for (const next of edges.get(node) ?? []) {
        if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
        if (!state.has(next)) {
          const loop = loopFrom(next);
          if (loop) return loop;
        }
      }
      stack.pop();
      state.set(node, 'done');
      return null;
    };
    for (const node of edges.keys()) {
      if (state.has(node)) continue;
      const loop = loopFrom(node);
      assert.equal(loop, null, `folders import each other: ${loop?.join(' → ')}`);
    }
  });

  it('keeps every file under src/api/ within 300 lines', () => {
    const long = FILES.filter((f) => f.startsWith('src/api/'))
      .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > 300);
    assert.deepEqual(long, []);
  });

  describe('the embedded default never loads neo4j-driver', () => {
    /** Runs a module body in a child process and returns how many neo4j-driver files it had loaded at the end. */
    function driverFilesLoaded(body: string): number {
      const script = `
        import { createRequire } from 'node:module';
        ${body}
        const cache = createRequire(import.meta.url).cache;
        console.log('neo4j-driver files: ' + Object.keys(cache).filter((k) => k.includes('/node_modules/neo4j-driver')).length);
      `;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      const match = /neo4j-driver files: (\d+)/.exec(child.stdout);
      assert.ok(match, `the child printed no count (status ${child.status}):\n${child.stdout}\n${child.stderr}`);
      return Number(match[1]);
    }

    it('opens, writes to and closes an embedded engine with the server, services and store modules loaded, without the driver', function () {
      this.timeout(90_000);
      const dataDir = mkdtempSync(join(tmpdir(), 'arch-embedded-'));
      try {
        const loaded = driverFilesLoaded(`
          await import('./src/api/api-server.ts');
          await import('./src/engine-services.ts');
          const { loadConfig } = await import('./src/config.ts');
          const { InterestEngine } = await import('./src/engine.ts');
          const { createLogger } = await import('./base/logger.ts');
          const config = loadConfig({ env: { DATA_DIR: ${JSON.stringify(dataDir)}, STORE: 'embedded' } });
          const engine = await InterestEngine.open(config, { logger: createLogger('silent') });
          await engine.ingestEvents([{ id: 'e1', userId: 'u1', itemId: 'i1', type: 'view' }]);
          await engine.close();
        `);
        assert.equal(loaded, 0);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('sees the driver when the Neo4j adapter is loaded (the check can fail)', function () {
      this.timeout(60_000);
      assert.ok(driverFilesLoaded(`await import('./src/store/neo4j/neo4j-store.ts');`) > 0);
    });
  });
});
