/**
 * The Dockerfile and .dockerignore, read as Docker reads them (dockerfile-ast): the stages, the Node
 * major, dev and production dependencies, what the image runs as and answers on, and what may enter the
 * build context. Each rule returns the problems it finds; the last tests break a copy of the files and
 * expect the rule to notice, so that none of them passes whatever the files say.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DockerfileParser, Env, type Instruction, ModifiableInstruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { loadConfig, settingNames } from '../../src/config.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const packageJson = JSON.parse(read('package.json')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const dockerfileText = read('Dockerfile');
const dockerignoreText = read('.dockerignore');

/** The major of a version or range such as `^24.21.0`, `>=24` or an image tag such as `24-slim`. */
function major(version: string | null | undefined): number | undefined {
  const match = /^\D*(\d+)/.exec(version ?? '');
  return match ? Number(match[1]) : undefined;
}

const pinnedMajor = major(packageJson.devDependencies.node);

interface Stage {
  index: number;
  name: string | undefined;
  /** The image or earlier stage it starts from, as written. */
  base: string;
  tag: string | undefined;
  instructions: Instruction[];
}

function parseStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const args = instruction.getArguments().map((a) => a.getValue());
      const [image = '', as, name] = args;
      const [base = '', tag] = image.split(':');
      stages.push({
        index: stages.length,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        base,
        tag,
        instructions: [],
      });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

const byKeyword = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.getKeyword() === keyword);
const content = (instruction: Instruction) => instruction.getArgumentsContent() ?? '';
/** The value of a flag such as `--from=deps`; undefined when the flag is absent. */
const flag = (instruction: Instruction, name: string): string | undefined => {
  if (!(instruction instanceof ModifiableInstruction)) return undefined;
  const found = instruction.getFlags().find((f) => f.getName() === name);
  return found ? (found.getValue() ?? '') : undefined;
};
const stageNamed = (stages: Stage[], name: string | undefined) => stages.find((s) => s.name === name);

/** The stage and all it is built on, nearest first. */
function lineage(stages: Stage[], stage: Stage): Stage[] {
  const chain = [stage];
  for (let parent = stageNamed(stages, stage.base); parent; parent = stageNamed(stages, parent.base)) {
    chain.push(parent);
  }
  return chain;
}

/** ENV values in effect in a stage (its own and those of the stages it is built on). */
function environment(stages: Stage[], stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of lineage(stages, stage).reverse()) {
    for (const instruction of s.instructions) {
      if (!(instruction instanceof Env)) continue;
      for (const property of instruction.getProperties()) env[property.getName()] = property.getValue() ?? '';
    }
  }
  return env;
}

const runs = (stage: Stage) => byKeyword(stage, 'RUN').map(content);
const runsNpmCi = (stage: Stage, omitDev: boolean) =>
  runs(stage).some((run) => /\bnpm ci\b/.test(run) && /--omit[= ]dev\b/.test(run) === omitDev);
const runsChecks = (stage: Stage) =>
  runs(stage).some((run) => /npm run typecheck/.test(run) && /npm run lint|biome (check|lint)/.test(run));

interface ContextCopy {
  stage: Stage;
  source: string;
}

/** Paths COPY or ADD take from the build context (not `--from` a stage), normalised: `./src/` → `src`. */
function contextCopies(stages: Stage[]): ContextCopy[] {
  return stages.flatMap((stage) =>
    stage.instructions
      .filter((i) => ['COPY', 'ADD'].includes(i.getKeyword()) && flag(i, 'from') === undefined)
      .flatMap((i) =>
        i
          .getArguments()
          .slice(0, -1)
          .map((a) => ({ stage, source: a.getValue().replace(/^\.\//, '').replace(/\/+$/, '') || '.' })),
      ),
  );
}

/** The .dockerignore lines that count: no comments, no blank lines. */
const ignoreLines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
const reincluded = (text: string) =>
  ignoreLines(text)
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1).replace(/^\/|\/+$/g, ''));

/** What the image needs from the repository: the dependencies' manifests, the checks' configuration, code. */
const allowedInContext = new Set([
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'biome.json',
  '.gitignore',
  'src',
  'cards',
]);
const forbidden = (path: string) =>
  path === '.' ||
  /^(tests|fhir-fixtures|bench|scripts|data|node_modules|coverage|\.git)(\/|$)/.test(path) ||
  /(^|\/)\.env(\.|$)/.test(path) ||
  /\.(pem|key|p12|pfx)$/.test(path);

type Rule = (stages: Stage[], dockerignore: string) => string[];

const rules: Record<string, Rule> = {
  'has at least three stages, the last named': (stages) => [
    ...(stages.length >= 3 ? [] : [`${stages.length} stages`]),
    ...(stages.at(-1)?.name ? [] : ['the final stage has no name']),
  ],

  'starts every stage from node with the major of the pinned node devDependency and of engines': (stages) =>
    stages.flatMap((stage) => {
      const origin = lineage(stages, stage).at(-1) as Stage;
      if (origin.base !== 'node') return [`stage ${stage.index} starts from ${origin.base}`];
      const tagMajor = major(origin.tag);
      return tagMajor === pinnedMajor && tagMajor === major(packageJson.engines.node)
        ? []
        : [
            `stage ${stage.index}: node:${origin.tag ?? '(no tag)'}, devDependency node ${packageJson.devDependencies.node}`,
          ];
    }),

  'installs the dev tools in one stage and production dependencies alone in a later one': (stages) => {
    const dev = stages.find((s) => runsNpmCi(s, false));
    const prod = stages.find((s) => runsNpmCi(s, true));
    const problems: string[] = [];
    if (!dev) problems.push('no npm ci with the dev dependencies');
    else if (environment(stages, dev).NODE_ENV === 'production') problems.push('dev npm ci under production');
    if (!prod) problems.push('no npm ci --omit=dev');
    if (dev && prod && prod.index < dev.index) problems.push('the production install comes first');
    if (prod && lineage(stages, prod).some((s) => runsNpmCi(s, false)))
      problems.push('the production install is built on the dev one');
    return problems;
  },

  'copies node_modules into the final stage from the --omit=dev stage only': (stages) => {
    const final = stages.at(-1) as Stage;
    const copies = byKeyword(final, 'COPY').filter((c) =>
      c
        .getArguments()
        .slice(0, -1)
        .some((a) => /node_modules/.test(a.getValue())),
    );
    if (copies.length === 0) return ['no node_modules in the final stage'];
    return copies.flatMap((c) => {
      const from = stageNamed(stages, flag(c, 'from'));
      if (!from) return [`node_modules from ${flag(c, 'from') ?? 'the build context'}`];
      return lineage(stages, from).some((s) => runsNpmCi(s, false)) || !runsNpmCi(from, true)
        ? [`node_modules from stage ${from.name}, which has the dev dependencies`]
        : [];
    });
  },

  'cannot be built unless typecheck and lint pass: the final stage copies from the checks stage': (
    stages,
  ) => {
    const final = stages.at(-1) as Stage;
    const reached = new Set<Stage>();
    const visit = (stage: Stage) => {
      for (const s of lineage(stages, stage)) {
        if (reached.has(s)) continue;
        reached.add(s);
        for (const c of byKeyword(s, 'COPY')) {
          const from = stageNamed(stages, flag(c, 'from'));
          if (from) visit(from);
        }
      }
    };
    visit(final);
    return [...reached].some(runsChecks) ? [] : ['no stage the image is built from runs typecheck and lint'];
  },

  'ships package.json, src and cards, what the process reads': (stages) => {
    const final = stages.at(-1) as Stage;
    const destinations = byKeyword(final, 'COPY').map((c) =>
      (c.getArguments().at(-1)?.getValue() ?? '').replace(/^(\.\/|\/app\/)/, '').replace(/\/+$/, ''),
    );
    return ['package.json', 'src', 'cards'].filter((d) => !destinations.includes(d)).map((d) => `no ${d}`);
  },

  'runs as a user that is not root': (stages) => {
    const users = byKeyword(stages.at(-1) as Stage, 'USER').map(content);
    const user = users.at(-1);
    if (user === undefined) return ['no USER in the final stage: it runs as root'];
    return /^(root|0)(:|$)/.test(user) ? [`USER ${user}`] : [];
  },

  'sets NODE_ENV=production and a valid production environment': (stages) => {
    const env = environment(stages, stages.at(-1) as Stage);
    const problems = Object.keys(env)
      .filter((name) => !(settingNames as string[]).includes(name))
      .map((name) => `ENV ${name} is not a setting`);
    if (env.NODE_ENV !== 'production') problems.push(`NODE_ENV=${env.NODE_ENV}`);
    // What the deployment must add (the header comment says so); with it, the configuration loads.
    const deployed = { ...env, PUBLIC_BASE_URL: 'https://cds.example.org', CDS_CLIENTS_FILE: '/etc/c.json' };
    try {
      if (loadConfig(deployed).port !== 3000) problems.push('not port 3000');
    } catch (error) {
      problems.push(String(error));
    }
    return problems;
  },

  'exposes port 3000': (stages) =>
    byKeyword(stages.at(-1) as Stage, 'EXPOSE').some((e) => /^3000(\/tcp)?$/.test(content(e)))
      ? []
      : ['no EXPOSE 3000'],

  'checks its health on /healthz, with node': (stages) => {
    const healthcheck = byKeyword(stages.at(-1) as Stage, 'HEALTHCHECK').at(-1);
    if (!healthcheck) return ['no HEALTHCHECK'];
    const match = /^CMD\s+(\[.*\])$/s.exec(content(healthcheck));
    if (!match) return ['HEALTHCHECK is not CMD in exec form'];
    const command = JSON.parse(match[1] as string) as string[];
    return command[0] === 'node' && command.some((part) => /\/healthz\b/.test(part))
      ? []
      : [`HEALTHCHECK ${command.join(' ')}`];
  },

  'runs node src/main.ts in exec form, as npm start does, so that SIGTERM reaches node': (stages) => {
    const final = stages.at(-1) as Stage;
    const cmd = byKeyword(final, 'CMD').at(-1);
    if (!cmd) return ['no CMD'];
    const problems = byKeyword(final, 'ENTRYPOINT').length > 0 ? ['an ENTRYPOINT wraps the CMD'] : [];
    let command: unknown;
    try {
      command = JSON.parse(content(cmd));
    } catch {
      return [...problems, `CMD in shell form: ${content(cmd)}`];
    }
    if (JSON.stringify(command) !== JSON.stringify(['node', 'src/main.ts']))
      problems.push(`CMD ${content(cmd)}`);
    if (packageJson.scripts.start !== 'node src/main.ts') problems.push('npm start runs something else');
    return problems;
  },

  'copies no tests, fixtures, benchmarks, data, .env or keys in any stage': (stages) =>
    contextCopies(stages)
      .filter((c) => forbidden(c.source))
      .map((c) => `stage ${c.stage.name ?? c.stage.index} copies ${c.source}`),

  '.dockerignore excludes everything first and re-includes only what the image needs': (_stages, ignore) => {
    const lines = ignoreLines(ignore);
    const problems = lines[0] === '*' ? [] : [`first pattern ${lines[0]}, not *`];
    for (const line of lines.slice(1)) if (!line.startsWith('!')) problems.push(`pattern ${line} after *`);
    for (const path of reincluded(ignore)) {
      if (!allowedInContext.has(path) || forbidden(path)) problems.push(`re-includes ${path}`);
      if (!existsSync(new URL(path, root))) problems.push(`re-includes ${path}, which does not exist`);
    }
    return problems;
  },

  'every path copied from the build context exists and is re-included by .dockerignore': (stages, ignore) => {
    const included = reincluded(ignore);
    return contextCopies(stages).flatMap(({ source }) => [
      ...(included.some((p) => source === p || source.startsWith(`${p}/`))
        ? []
        : [`${source} is left out of the build context`]),
      ...(existsSync(new URL(source, root)) ? [] : [`${source} does not exist`]),
    ]);
  },
};

describe('Dockerfile', () => {
  const stages = parseStages(dockerfileText);

  it.each(Object.keys(rules))('%s', (name) => {
    expect((rules[name] as Rule)(stages, dockerignoreText)).toEqual([]);
  });

  it('reads the pinned Node major from package.json', () => {
    expect(pinnedMajor).toBeGreaterThanOrEqual(24);
    expect(major(packageJson.engines.node)).toBe(pinnedMajor);
  });
});

describe('the rules notice a broken Dockerfile or .dockerignore', () => {
  /** Replaces what must be there: a break that no longer applies fails instead of passing silently. */
  const replace = (text: string, from: RegExp, to: string) => {
    expect(text).toMatch(from);
    return text.replace(from, to);
  };
  const unchanged = (text: string) => text;
  interface Break {
    rule: string;
    what: string;
    dockerfile?: (text: string) => string;
    dockerignore?: (text: string) => string;
    /** One of the problems the rule must report. */
    problem: RegExp;
  }
  const stagesRule = 'has at least three stages, the last named';
  const nodeRule =
    'starts every stage from node with the major of the pinned node devDependency and of engines';
  const installRule = 'installs the dev tools in one stage and production dependencies alone in a later one';
  const modulesRule = 'copies node_modules into the final stage from the --omit=dev stage only';
  const checksRule =
    'cannot be built unless typecheck and lint pass: the final stage copies from the checks stage';
  const shipsRule = 'ships package.json, src and cards, what the process reads';
  const userRule = 'runs as a user that is not root';
  const envRule = 'sets NODE_ENV=production and a valid production environment';
  const cmdRule = 'runs node src/main.ts in exec form, as npm start does, so that SIGTERM reaches node';
  const copiesRule = 'copies no tests, fixtures, benchmarks, data, .env or keys in any stage';
  const ignoreRule = '.dockerignore excludes everything first and re-includes only what the image needs';
  const contextRule = 'every path copied from the build context exists and is re-included by .dockerignore';
  const breaks: Break[] = [
    {
      rule: stagesRule,
      what: 'one stage',
      dockerfile: () => 'FROM node:24-slim\nCMD ["node"]\n',
      problem: /1 stages/,
    },
    {
      rule: nodeRule,
      what: 'node 22 in the final stage',
      dockerfile: (d) => replace(d, /FROM node:24-slim AS runtime/, 'FROM node:22-slim AS runtime'),
      problem: /stage 3: node:22-slim/,
    },
    {
      rule: nodeRule,
      what: 'an untagged node',
      dockerfile: (d) => replace(d, /FROM node:24-slim AS deps/, 'FROM node AS deps'),
      problem: /stage 1: node:\(no tag\)/,
    },
    {
      rule: nodeRule,
      what: 'another base image',
      dockerfile: (d) =>
        replace(d, /FROM node:24-slim AS prod-deps/, 'FROM debian:bookworm-slim AS prod-deps'),
      problem: /stage 2 starts from debian/,
    },
    {
      rule: installRule,
      what: 'no --omit=dev',
      dockerfile: (d) => replace(d, /--omit=dev /, ''),
      problem: /no npm ci --omit=dev/,
    },
    {
      rule: installRule,
      what: 'the dev install under NODE_ENV=production',
      dockerfile: (d) => replace(d, /^WORKDIR \/app$/m, 'ENV NODE_ENV=production\nWORKDIR /app'),
      problem: /dev npm ci under production/,
    },
    {
      rule: modulesRule,
      what: 'node_modules from the dev stage',
      dockerfile: (d) => replace(d, /--from=prod-deps/, '--from=deps'),
      problem: /from stage deps, which has the dev dependencies/,
    },
    {
      rule: modulesRule,
      what: 'node_modules from the checks stage',
      dockerfile: (d) => replace(d, /--from=prod-deps/, '--from=checks'),
      problem: /from stage checks/,
    },
    {
      rule: checksRule,
      what: 'the final stage copies from the build context',
      dockerfile: (d) => replace(d, /--from=checks --chown=root:root \/app\//g, ''),
      problem: /no stage the image is built from runs typecheck and lint/,
    },
    {
      rule: checksRule,
      what: 'the checks stage runs typecheck only',
      dockerfile: (d) => replace(d, / && npm run lint/, ''),
      problem: /no stage the image is built from runs typecheck and lint/,
    },
    {
      rule: shipsRule,
      what: 'no cards',
      dockerfile: (d) => replace(d, /^COPY --from=checks --chown=root:root \/app\/cards \.\/cards\n/m, ''),
      problem: /^no cards$/,
    },
    {
      rule: userRule,
      what: 'no USER',
      dockerfile: (d) => replace(d, /^USER node\n/m, ''),
      problem: /no USER/,
    },
    {
      rule: userRule,
      what: 'USER root',
      dockerfile: (d) => replace(d, /^USER node$/m, 'USER root'),
      problem: /USER root/,
    },
    {
      rule: userRule,
      what: 'USER 0:0',
      dockerfile: (d) => replace(d, /^USER node$/m, 'USER 0:0'),
      problem: /USER 0/,
    },
    {
      rule: envRule,
      what: 'NODE_ENV=development',
      dockerfile: (d) => replace(d, /NODE_ENV=production/, 'NODE_ENV=development'),
      problem: /NODE_ENV=development/,
    },
    {
      rule: envRule,
      what: 'no HOST, which production refuses',
      dockerfile: (d) => replace(d, /HOST=0\.0\.0\.0 \\\n\s*/, ''),
      problem: /HOST: production needs/,
    },
    {
      rule: envRule,
      what: 'a misspelt setting',
      dockerfile: (d) => replace(d, /LOG_FORMAT=json/, 'LOGFORMAT=json'),
      problem: /ENV LOGFORMAT is not a setting/,
    },
    {
      rule: 'exposes port 3000',
      what: 'EXPOSE 8080',
      dockerfile: (d) => replace(d, /^EXPOSE 3000$/m, 'EXPOSE 8080'),
      problem: /no EXPOSE 3000/,
    },
    {
      rule: 'checks its health on /healthz, with node',
      what: 'on /metrics',
      dockerfile: (d) => replace(d, /\/healthz/, '/metrics'),
      problem: /HEALTHCHECK node -e/,
    },
    {
      rule: 'checks its health on /healthz, with node',
      what: 'no HEALTHCHECK',
      dockerfile: (d) => replace(d, /^HEALTHCHECK .*\n/m, ''),
      problem: /no HEALTHCHECK/,
    },
    {
      rule: cmdRule,
      what: 'shell form',
      dockerfile: (d) => replace(d, /^CMD \["node", "src\/main.ts"\]$/m, 'CMD node src/main.ts'),
      problem: /CMD in shell form/,
    },
    {
      rule: cmdRule,
      what: 'through npm',
      dockerfile: (d) => replace(d, /^CMD \["node", "src\/main.ts"\]$/m, 'CMD ["npm", "start"]'),
      problem: /CMD \["npm", "start"\]/,
    },
    {
      rule: copiesRule,
      what: 'COPY tests',
      dockerfile: (d) => replace(d, /^COPY cards \.\/cards$/m, 'COPY cards ./cards\nCOPY tests ./tests'),
      problem: /stage checks copies tests/,
    },
    {
      rule: copiesRule,
      what: 'COPY . .',
      dockerfile: (d) => replace(d, /^COPY cards \.\/cards$/m, 'COPY . .'),
      problem: /copies \.$/,
    },
    {
      rule: copiesRule,
      what: 'a key',
      dockerfile: (d) => replace(d, /^COPY cards \.\/cards$/m, 'COPY cards ./cards\nCOPY server.pem /etc/'),
      problem: /copies server\.pem/,
    },
    {
      rule: copiesRule,
      what: '.env',
      dockerfile: (d) => replace(d, /^COPY cards \.\/cards$/m, 'COPY cards ./cards\nCOPY .env.production ./'),
      problem: /copies \.env\.production/,
    },
    {
      rule: ignoreRule,
      what: 'a deny-list',
      dockerignore: () => 'node_modules\n.git\ntests\n',
      problem: /first pattern node_modules, not \*/,
    },
    {
      rule: ignoreRule,
      what: 'tests re-included',
      dockerignore: (i) => `${i}!tests/\n`,
      problem: /re-includes tests/,
    },
    {
      rule: ignoreRule,
      what: 'scripts re-included',
      dockerignore: (i) => `${i}!scripts/\n`,
      problem: /re-includes scripts/,
    },
    {
      rule: contextRule,
      what: 'cards left out of the context',
      dockerignore: (i) => replace(i, /^!cards\/\n/m, ''),
      problem: /cards is left out of the build context/,
    },
    {
      rule: contextRule,
      what: 'a file that does not exist',
      dockerfile: (d) => replace(d, /tsconfig\.json biome\.json/, 'tsconfig.json biome.json jsconfig.json'),
      problem: /jsconfig\.json does not exist/,
    },
  ];

  it.each(breaks)('$rule: $what', ({ rule, dockerfile = unchanged, dockerignore = unchanged, problem }) => {
    const check = rules[rule];
    expect(check, rule).toBeDefined();
    const problems = (check as Rule)(parseStages(dockerfile(dockerfileText)), dockerignore(dockerignoreText));
    expect(
      problems.some((p) => problem.test(p)),
      problems.join('; '),
    ).toBe(true);
  });

  it('has a break for every rule', () => {
    expect(new Set(breaks.map((b) => b.rule))).toEqual(new Set(Object.keys(rules)));
  });
});
