/**
 * The standalone script of the playground (`raft-playground.js`, an IIFE built by
 * scripts/site.mjs): loading it with a plain `<script>` defines `<raft-playground>`.
 */
import { definePlayground } from './element.js';

definePlayground();
