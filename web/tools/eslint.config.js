// ESLint's recommended rules over the dashboard's ES modules (browser
// globals). Paths are relative to web/static/js, where `npm run lint` runs it.
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: globals.browser,
    },
  },
];
