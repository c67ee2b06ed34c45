import { writeFileAtomic } from '../io/atomicWrite';
import { renderReportHtml, type ReportExplanations } from '../report/reportHtml';
import type { RunResults } from '../protocol/results';

/** report.html: self-contained (inline SVG charts, inline CSS, no script, nothing fetched). */
export async function writeReport(file: string, results: RunResults, top?: ReportExplanations): Promise<void> {
  await writeFileAtomic(file, await renderReportHtml(results, top));
}
