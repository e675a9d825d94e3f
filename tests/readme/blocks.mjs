// The README's fenced code blocks and the tags that name them. A block is tagged by an HTML
// comment on the nearest non-blank line above its opening fence:
//
//   <!-- test: quickstart -->
//   ```js
//
// readme.test.mjs knows what to do with each tag; a block without one (or with a tag it does not
// know) fails the test, so no example escapes it.
import { readFileSync } from 'node:fs';

const FENCE = /^```(\S*)\s*$/;
const TAG = /^<!--\s*test:\s*([a-z0-9-]+)\s*-->$/;

/**
 * Every fenced block of `markdown`: `{ lang, code, tag, line }`, `line` being the README line
 * of the block's first line of code (1-based), `tag` null when the block has none.
 */
export function codeBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(FENCE);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    if (end === lines.length) throw new Error(`README line ${i + 1}: a code block that never closes`);
    let above = i - 1;
    while (above >= 0 && lines[above].trim() === '') above--;
    const tag = above >= 0 ? lines[above].trim().match(TAG)?.[1] ?? null : null;
    blocks.push({ lang: open[1], code: `${lines.slice(i + 1, end).join('\n')}\n`, tag, line: i + 2 });
    i = end;
  }
  return blocks;
}

/** The README's blocks by tag (the checks of readme.test.mjs have run on them). */
export function blocksByTag(path) {
  return Object.fromEntries(codeBlocks(readFileSync(path, 'utf8')).filter((b) => b.tag).map((b) => [b.tag, b]));
}

/** Where the npm page (pkg-template/README.md) ends inside README.md. */
export const NPM_PAGE_END = '<!-- The npm page (pkg-template/README.md) ends here; what follows is for working on peercall. -->';
