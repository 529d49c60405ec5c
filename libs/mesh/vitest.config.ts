import { projectConfig } from '../../vitest.shared.ts';

// One spec file at a time: wrtc (libwebrtc in-process) once stalled a negotiation and once
// crashed a worker in CI while the Chromium spec ran beside it on the two cores; run alone,
// neither was seen in dozens of runs. Costs about 15 s.
export default projectConfig(import.meta.dirname, { fileParallelism: false });
