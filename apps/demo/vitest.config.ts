import { projectConfig } from '../../vitest.shared.ts';

// One spec file at a time: each opens Chromium pages with live video on the two cores.
export default projectConfig(import.meta.dirname, { fileParallelism: false });
