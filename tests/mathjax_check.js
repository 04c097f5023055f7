// MathJax (the renderer of JupyterLab and the docs site) run on every TeX string the toolkit
// produces: read a JSON list of strings on stdin, print a JSON list of [index, error] for
// each that MathJax refuses (undefined macros are errors here, not red text).  Each string is
// compiled (parsed into MathJax's internal MathML), where every TeX error is raised; laying out
// glyphs would double the time and find nothing more.
const {mathjax} = require('mathjax-full/js/mathjax.js');
const {STATE} = require('mathjax-full/js/core/MathItem.js');
const {TeX} = require('mathjax-full/js/input/tex.js');
const {SVG} = require('mathjax-full/js/output/svg.js');
const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
const {AllPackages} = require('mathjax-full/js/input/tex/AllPackages.js');
const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
// every package but physics (neither JupyterLab nor the docs site loads it; its macros rewrite the
// input and trip MathJax's 5K buffer on long derivations) and the two that hide errors
const packages = AllPackages.filter(p => !['physics', 'noundefined', 'noerrors'].includes(p));
const tex = new TeX({packages, formatError: (jax, err) => { throw err; }});
const doc = mathjax.document('', {InputJax: tex, OutputJax: new SVG({fontCache: 'none'})});
let data = '';
process.stdin.on('data', c => data += c);
process.stdin.on('end', () => {
  const items = JSON.parse(data);
  const bad = [];
  items.forEach((s, i) => {
    try { doc.convert(s, {display: true, end: STATE.COMPILED}); } catch (e) { bad.push([i, String(e.message || e)]); }
  });
  process.stdout.write(JSON.stringify(bad));
});
