/**
 * Helper of scripts/verify_roundtrip.py: load every `*.pth` / `*.safetensors` in a folder with
 * tsnn and write it back with tsnn as `<name>.tsnn.pth` and `<name>.tsnn.safetensors`.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { load, save } from "../src/index.js";

const dir = process.argv[2];
for (const f of readdirSync(dir)) {
  if (f.includes(".tsnn.") || !/\.(pth|safetensors)$/.test(f)) continue;
  const sd = load(join(dir, f));
  const stem = f.replace(/\.(pth|safetensors)$/, "");
  save(join(dir, `${stem}.tsnn.pth`), sd);
  save(join(dir, `${stem}.tsnn.safetensors`), sd);
  save(join(dir, `${stem}.tsnn.f16.pth`), sd, { dtype: "float16" });
  save(join(dir, `${stem}.tsnn.bf16.safetensors`), sd, { dtype: "bfloat16" });
  console.log(`${f}: ${sd.size} tensors re-saved`);
}
