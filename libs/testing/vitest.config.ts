import { projectConfig } from '../../vitest.shared.ts';

// The suite itself runs from each transport's spec; this project has no specs of its own.
export default projectConfig(import.meta.dirname, { passWithNoTests: true });
