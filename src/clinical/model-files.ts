/**
 * Loads and validates the versioned model files in `src/clinical/models/` once, at start-up.
 * A malformed model stops the process with a message naming the file.
 */
import { readFileSync } from 'node:fs';
import { type Model, modelSchema, type RiskKind } from './model.ts';

const modelsDir = new URL('./models/', import.meta.url);

export function loadModel(fileName: string): Model {
  const url = new URL(fileName, modelsDir);
  const parsed = modelSchema.safeParse(JSON.parse(readFileSync(url, 'utf8')));
  if (!parsed.success) {
    throw new Error(`model file ${fileName} is invalid: ${parsed.error.message}`);
  }
  return parsed.data;
}

export type Models = Record<RiskKind, Model>;

export function loadModels(): Models {
  return {
    'residual-pain-risk': loadModel('rbp-v1.json'),
    'refracture-risk': loadModel('refracture-v1.json'),
  };
}
