/** The playground's own styles (inside its shadow root: they neither leak out nor in). */
export const STYLES = `
:host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1d2330; --rp-accent: #2457c5; }
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.rp { border: 1px solid #c9cfdb; border-radius: 8px; padding: 12px; background: #fbfcfe; max-width: 1100px; }
.rp-row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 6px 0; }
.rp-main { display: grid; grid-template-columns: minmax(260px, 420px) 1fr; gap: 12px; }
@media (max-width: 720px) { .rp-main { grid-template-columns: 1fr; } }
button { font: inherit; padding: 4px 10px; border: 1px solid #8a94a8; border-radius: 5px; background: #fff; color: inherit; cursor: pointer; }
button:hover:not(:disabled) { background: #eef2fb; }
button:disabled { opacity: 0.45; cursor: default; }
button[aria-pressed="true"] { background: var(--rp-accent); color: #fff; border-color: var(--rp-accent); }
:focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
input[type=range] { width: 100%; }
.rp-timeline { flex: 1 1 260px; }
.rp-time { font-variant-numeric: tabular-nums; min-width: 9em; }
.rp-problems:empty, .rp-status:empty { display: none; }
.rp-problems { color: #8a3b00; background: #fff4e5; border-radius: 5px; padding: 4px 8px; }
.rp-status { color: #5a2a86; }
.rp-lesson { border-left: 4px solid var(--rp-accent); padding: 4px 10px; margin: 6px 0 10px; background: #eef2fb; }
.rp-lesson h3 { margin: 0 0 4px; font-size: 15px; }
.rp-caption { margin: 0 0 6px; font-size: 15px; }
svg.rp-ring { width: 100%; height: auto; background: #fff; border: 1px solid #e0e4ec; border-radius: 6px; }
.rp-link { stroke: #d7dce6; stroke-width: 1; }
.rp-link.rp-cut { stroke: #d33; stroke-dasharray: 4 4; }
.rp-node circle.rp-body { stroke: #4a5470; stroke-width: 2; }
.rp-node[data-role-name="follower"] circle.rp-body { fill: #e8ebf2; }
.rp-node[data-role-name="precandidate"] circle.rp-body { fill: #fff2c6; }
.rp-node[data-role-name="candidate"] circle.rp-body { fill: #ffd98a; }
.rp-node[data-role-name="leader"] circle.rp-body { fill: #9ad0a0; stroke-width: 4; }
.rp-node[data-status="crashed"] circle.rp-body { fill: #59606e; stroke-dasharray: 5 4; }
.rp-node[data-status="crashed"] text { fill: #fff; }
.rp-node text { font-size: 13px; text-anchor: middle; dominant-baseline: middle; fill: #1d2330; pointer-events: none; }
.rp-node .rp-id { font-size: 18px; font-weight: 700; }
.rp-timer { fill: none; stroke: #2457c5; stroke-width: 4; stroke-linecap: round; }
.rp-vote { fill: #1d8a3a; }
.rp-node, .rp-msg { cursor: pointer; outline: none; }
.rp-node:focus-visible circle.rp-body, .rp-node.rp-selected circle.rp-body { stroke: #f0a000; stroke-width: 5; }
.rp-msg circle { stroke: #1d2330; stroke-width: 1.5; }
.rp-msg.rp-response circle { fill: #fff !important; stroke-width: 2.5; }
.rp-msg:focus-visible circle, .rp-msg.rp-selected circle { stroke: #f0a000; stroke-width: 4; }
.rp-msg.rp-doomed circle { stroke: #d33; stroke-dasharray: 2 2; }
.rp-side { display: flex; flex-direction: column; gap: 8px; min-width: 0; }
.rp-details { min-height: 7em; border: 1px solid #e0e4ec; border-radius: 6px; padding: 6px 8px; background: #fff; white-space: pre-wrap; overflow-wrap: anywhere; }
.rp-details h4 { margin: 0 0 4px; font-size: 14px; }
.rp-details dl { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: 0 8px; }
.rp-details dt { color: #5b6476; }
.rp-details dd { margin: 0; }
.rp-nodectl { display: grid; grid-template-columns: auto repeat(4, auto); gap: 4px 6px; align-items: center; justify-content: start; }
.rp-nodectl .rp-label { font-weight: 600; }
.rp-logs { margin-top: 8px; overflow-x: auto; }
.rp-log { display: flex; align-items: center; gap: 2px; min-height: 26px; }
.rp-log .rp-label { width: 5.5em; flex: none; font-weight: 600; }
.rp-entry { display: inline-block; min-width: 22px; height: 22px; line-height: 20px; text-align: center; font-size: 12px; border: 1px dashed #4a5470; border-radius: 3px; }
.rp-entry.rp-committed { border-style: solid; border-width: 2px; line-height: 18px; }
.rp-entry.rp-snapshot { background: #c8ccd6; padding: 0 4px; }
.rp-commit { display: inline-block; width: 3px; height: 26px; background: #1d2330; margin: 0 1px; }
.rp-log[data-status="crashed"] { opacity: 0.55; }
.rp-actions { max-height: 8em; overflow-y: auto; margin: 4px 0 0; padding-left: 1.2em; font-size: 13px; overflow-wrap: anywhere; }
details.rp-settings { margin-top: 8px; }
label { display: inline-flex; gap: 4px; align-items: center; }
input[type=text], input[type=number], select { font: inherit; padding: 3px 6px; border: 1px solid #8a94a8; border-radius: 5px; }
.rp-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
