import { discoverDataset, type Clip } from '../../datasets';
import { GenrepError } from '../../errors';
import type { ClipInfo, DatasetListing, ListDatasetsParams, ListDatasetsResult } from '../../protocol/workerProtocol';
import { toResponseError } from '../errorMapping';

/**
 * genrep/listDatasets: what the Dataset Explorer shows. Each root is discovered on its own (tolerantly: unknown
 * files are skipped and listed, unlabelled test sets are allowed), so one missing or broken root shows as a problem
 * entry while the others still list.
 */
export async function listDatasets(params: ListDatasetsParams): Promise<ListDatasetsResult> {
  const datasets: DatasetListing[] = [];
  for (const root of params.roots) datasets.push(await listOne(root, params));
  return { datasets };
}

async function listOne(root: string, params: ListDatasetsParams): Promise<DatasetListing> {
  try {
    const dataset = await discoverDataset({
      root,
      layout: params.layout ?? 'auto',
      skipUnrecognised: true,
      scoringOnly: true,
    });
    return {
      root,
      status: 'ok',
      resolvedRoot: dataset.root,
      layout: dataset.layout,
      machines: dataset.machines.map((m) => ({
        machineType: m.machineType,
        sections: m.sections,
        train: m.train.map(clipInfo),
        test: m.test.map(clipInfo),
      })),
      skipped: dataset.skipped,
    };
  } catch (err) {
    if (!(err instanceof GenrepError)) throw err;
    const error = toResponseError(err).data ?? { code: err.code };
    return { root, status: err.code === 'NOT_FOUND' ? 'missing' : 'error', message: err.message, error };
  }
}

function clipInfo(c: Clip): ClipInfo {
  return {
    path: c.path,
    name: c.name,
    section: c.section,
    split: c.split,
    domain: c.domain ?? null,
    label: c.label ?? null,
    attributes: c.attributes,
  };
}
