/**
 * Loads and validates the model files once, at start-up: the published v1 models in
 * `src/clinical/models/`, or, with MODEL_DIR, the hospital's own (`npm run model` writes them). A file
 * that cannot be read, is not JSON or is not a valid model stops the process with a message naming it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Model, modelSchema, type RiskKind, riskKinds } from './model.ts';

const publishedDir = fileURLToPath(new URL('./models/', import.meta.url));
const published: Record<RiskKind, string> = {
  'residual-pain-risk': 'rbp-v1.json',
  'refracture-risk': 'refracture-v1.json',
};

export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

/** One model file, by path (or a published file's name). */
export function loadModel(file: string): Model {
  const path = file.includes('/') ? file : join(publishedDir, file);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const why = error instanceof SyntaxError ? `is not JSON (${error.message})` : 'cannot be read';
    throw new ModelFileError(`model file ${path} ${why}`);
  }
  const parsed = modelSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new ModelFileError(`model file ${path} is invalid: ${issues.join('; ')}`);
  }
  return parsed.data;
}

export type Models = Record<RiskKind, Model>;

export interface LoadedModels {
  models: Models;
  /** Where each kind's model came from. */
  files: Record<RiskKind, string>;
}

/** The published model of each kind, or the one MODEL_DIR holds for it (at most one per kind). */
export function loadModelFiles(modelDir?: string): LoadedModels {
  const files: Record<RiskKind, string> = {
    'residual-pain-risk': join(publishedDir, published['residual-pain-risk']),
    'refracture-risk': join(publishedDir, published['refracture-risk']),
  };
  const models = {} as Models;
  if (modelDir !== undefined) {
    let names: string[];
    try {
      names = readdirSync(modelDir).filter((name) => name.endsWith('.json'));
    } catch {
      throw new ModelFileError(`MODEL_DIR ${modelDir} cannot be read`);
    }
    if (names.length === 0) throw new ModelFileError(`MODEL_DIR ${modelDir} holds no model file (*.json)`);
    for (const name of names.sort()) {
      const path = join(modelDir, name);
      const model = loadModel(path);
      if (models[model.kind]) {
        throw new ModelFileError(
          `MODEL_DIR holds two ${model.kind} models: ${files[model.kind]} and ${path}`,
        );
      }
      models[model.kind] = model;
      files[model.kind] = path;
    }
  }
  for (const kind of riskKinds) models[kind] ??= loadModel(files[kind]);
  return { models, files };
}

/** The published models. */
export function loadModels(): Models {
  return loadModelFiles().models;
}
