// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "test-artifacts/**", ".tmp/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "bin/*"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
  {
    // The web UI: plain browser modules, no build step.
    files: ["web/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: Object.fromEntries(
        [
          "document",
          "window",
          "sessionStorage",
          "EventSource",
          "fetch",
          "requestAnimationFrame",
          "setTimeout",
          "clearTimeout",
          "Node",
          "Element",
          "HTMLElement",
          "CSS",
          "Response",
          "AbortController",
          "TextDecoderStream",
        ].map((name) => [name, "readonly"]),
      ),
    },
  },
);
