// Diagrams: every ```mermaid block of the book, drawn by mermaid.js in the
// reader's browser. mdBook renders such a block as
// <pre><code class="language-mermaid">; we hand its text to mermaid as a
// <pre class="mermaid"> (what a preprocessor would write) and draw them all.
// A theme switch between light and dark reloads the page so the diagrams
// are drawn again in the new colours.
(() => {
    const darkThemes = ['ayu', 'navy', 'coal'];
    const isDark = () => darkThemes.some((t) => document.documentElement.classList.contains(t));

    for (const code of document.querySelectorAll('code.language-mermaid')) {
        const diagram = document.createElement('pre');
        diagram.className = 'mermaid';
        diagram.textContent = code.textContent;
        code.closest('pre').replaceWith(diagram);
    }

    const drawnDark = isDark();
    mermaid.initialize({ startOnLoad: false, theme: drawnDark ? 'dark' : 'default' });
    mermaid.run({ querySelector: 'pre.mermaid' });

    new MutationObserver(() => {
        if (isDark() !== drawnDark) {
            window.location.reload();
        }
    }).observe(document.documentElement, { attributes: true, attributeFilter: ['class'] });
})();
