import { it } from 'vitest';
import { main } from '../src/cli.js';
it('probe', async () => {
  const out: string[] = []; const err: string[] = [];
  for (const argv of [['demo'], ['simulate','--nodes','5','--rounds','3','--seed','42'], ['simulate','--rounds','-1'], ['simulate','--nodes','0'], ['simulate','--nodes','abc'], ['bogus'], ['simulate','--foo','1'], ['demo','x'], ['simulate', '--nodes=1e1'], ['simulate','--seed'], ['simulate','--nodes', ' 5'], ['simulate','--nodes','05']]) {
    out.length = 0; err.length = 0;
    const code = await main(argv, (l) => out.push(l), (l) => err.push(l));
    console.log(JSON.stringify(argv), code, JSON.stringify(out), JSON.stringify(err));
  }
  console.log(process.argv);
});
