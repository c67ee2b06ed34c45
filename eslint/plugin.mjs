// @ts-check
// GenRep's own lint rules: what no published rule checks. Loaded by eslint.config.mjs.
import noFolderCycles from './noFolderCycles.mjs';

export default {
  meta: { name: 'eslint-plugin-genrep' },
  rules: { 'no-folder-cycles': noFolderCycles },
};
