// Diffs: highlight.js (as mdBook ships it) marks a hunk header `@@ -1,8 +1,9 @@` as
// hljs-meta, but leaves as plain text the ones that go on with the function they are
// in (`@@ -60,18 +63,21 @@ fn main() -> ExitCode {`, as `diff -F` writes them), so
// those look like a line of the program. Mark them the same way. Runs after book.js,
// which highlights the code blocks as it loads.
(function markHunkHeaders() {
    const header = /^@@ -\d+(,\d+)? \+\d+(,\d+)? @@/;
    for (const code of document.querySelectorAll('code.language-diff')) {
        for (const node of Array.from(code.childNodes)) {
            if (node.nodeType !== Node.TEXT_NODE || !node.data.includes('@@')) {
                continue;
            }
            const previous = node.previousSibling;
            let atLineStart = !previous || previous.textContent.endsWith('\n');
            const parts = [];
            for (const line of node.data.split(/(?<=\n)/)) {
                if (atLineStart && header.test(line)) {
                    const text = line.replace(/\n$/, '');
                    const span = document.createElement('span');
                    span.className = 'hljs-meta';
                    span.textContent = text;
                    parts.push(span);
                    if (text !== line) {
                        parts.push(document.createTextNode('\n'));
                    }
                } else {
                    parts.push(document.createTextNode(line));
                }
                atLineStart = line.endsWith('\n');
            }
            if (parts.some(part => part.nodeType === Node.ELEMENT_NODE)) {
                node.replaceWith(...parts);
            }
        }
    }
})();

// Code in a table may wrap (course.css). Let a long snake_case name, such as the
// graded tests' `feature_the_kernel_reports_the_limit_and_the_cgroup_is_removed_after`,
// break after an underscore rather than anywhere inside a word; and keep a hyphenated
// word (a crate, `step05-chroot-proc`; an option, `--rootfs`) whole, which the
// browser would otherwise break after a hyphen.
(function breakNamesInTables() {
    for (const code of document.querySelectorAll('main table code')) {
        for (const node of Array.from(code.childNodes)) {
            if (node.nodeType !== Node.TEXT_NODE || !/_.|-/.test(node.data)) {
                continue;
            }
            const parts = [];
            for (const word of node.data.split(/(\s+)/)) {
                if (word.includes('-') && !word.includes('_') && word.length <= 30) {
                    const span = document.createElement('span');
                    span.className = 'nobreak';
                    span.textContent = word;
                    parts.push(span);
                    continue;
                }
                word.split(/(?<=_)(?=.)/).forEach((piece, i) => {
                    if (i > 0) {
                        parts.push(document.createElement('wbr'));
                    }
                    parts.push(document.createTextNode(piece));
                });
            }
            node.replaceWith(...parts);
        }
    }
})();
