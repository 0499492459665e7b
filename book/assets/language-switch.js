// The language switch: English at the site's root, the Chinese edition
// under zh-CN/, the same page in both (cargo xtask book builds both). A link
// in the menu bar leads to this page in the other language. In the Chinese
// edition, mdBook's own buttons get Chinese labels too, since mdBook has
// no translations of its own.
(() => {
    const chinese = document.documentElement.lang === 'zh-CN';
    // path_to_root is mdBook's: from this page to the root of this build.
    const root = new URL(path_to_root || './', window.location.href);
    const page = window.location.href.slice(root.href.length);
    const target = chinese ? new URL('../' + page, root) : new URL('zh-CN/' + page, root);

    const link = document.createElement('a');
    link.id = 'language-switch';
    link.href = target.href;
    link.hreflang = chinese ? 'en' : 'zh-CN';
    link.lang = chinese ? 'en' : 'zh-CN';
    link.textContent = chinese ? 'English' : '中文';
    link.title = chinese ? 'Read this page in English' : '阅读本页的中文版';
    link.style.fontWeight = 'bold';
    link.style.marginInlineEnd = '1em';
    const buttons = document.querySelector('.right-buttons');
    if (buttons) {
        buttons.prepend(link);
    }

    if (!chinese) {
        return;
    }
    const labels = {
        '#mdbook-sidebar-toggle': '目录',
        '#mdbook-theme-toggle': '切换主题',
        '#mdbook-search-toggle': '搜索（/）',
        'a[href$="print.html"]': '打印本书',
        'a[href^="https://github.com/"]': 'Git 仓库',
        'a.nav-chapters.previous, a.mobile-nav-chapters.previous': '上一章',
        'a.nav-chapters.next, a.mobile-nav-chapters.next': '下一章',
    };
    for (const [selector, label] of Object.entries(labels)) {
        for (const element of document.querySelectorAll(selector)) {
            element.title = label;
            element.setAttribute('aria-label', label);
        }
    }
    const search = document.querySelector('#mdbook-searchbar');
    if (search) {
        search.placeholder = '搜索本书……';
    }
})();
