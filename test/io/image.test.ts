import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeImage, imageHeader, resizeBilinearLegacy, toRgb } from '../../src/io/image.js';
import { expectError } from '../helpers/errors.js';
import { faceReference, repoPath, sha256 } from '../helpers/face-fixture.js';

const read = (name: string) => new Uint8Array(readFileSync(repoPath(`samples/images/${name}`)));

describe('decodeImage', () => {
  // The fixture's hashes are of the RGB bytes face-api was given (decoded by pngjs / jpeg-js in tools/face_api_reference.mjs).
  const hashes = new Map(faceReference().images.filter((i) => !i.crop).map((i) => [i.file.split('/').pop(), i]));

  it.each([
    ['astronaut.png', 512, 512],
    ['camera.png', 512, 512], // grey: expanded to RGB
    ['astronaut-camera.jpg', 1000, 460],
  ])('decodes %s to %i×%i RGB, the pixels face-api saw', (name, width, height) => {
    const image = decodeImage(read(name), name);
    expect([image.width, image.height, image.channels, image.data.length]).toEqual([width, height, 3, width * height * 3]);
    expect(sha256(image.data)).toBe(hashes.get(name)!.rgb_sha256);
  });

  it('reads the size from the header', () => {
    expect(imageHeader(read('astronaut-camera.jpg'), 'x')).toEqual({ format: 'jpeg', width: 1000, height: 460 });
    expect(imageHeader(read('camera.png'), 'x')).toEqual({ format: 'png', width: 512, height: 512 });
  });

  it('rejects truncated and corrupt files, naming them', () => {
    const png = read('camera.png');
    const jpg = read('astronaut-camera.jpg');
    expectError(() => decodeImage(png.subarray(0, png.length >> 1), 'half.png'), 'E_BAD_INPUT', /^E_BAD_INPUT: half\.png: truncated PNG \(its pixel data holds \d+ of the 262656 bytes 512×512 needs\)$/);
    expectError(() => decodeImage(png.subarray(0, 20), 'stub.png'), 'E_BAD_INPUT', /stub\.png: truncated or corrupt PNG \(no IHDR/);
    expectError(() => decodeImage(jpg.subarray(0, jpg.length >> 1), 'half.jpg'), 'E_BAD_INPUT', /half\.jpg: truncated or corrupt JPEG/);
    expectError(() => decodeImage(jpg.subarray(0, 100), 'head.jpg'), 'E_BAD_INPUT', /head\.jpg: truncated JPEG \(the file ends before its frame header\)/);
    const scrambled = jpg.slice();
    scrambled.fill(0xff, 4000, 4100);
    expectError(() => decodeImage(scrambled, 'scrambled.jpg'), 'E_BAD_INPUT', /scrambled\.jpg: truncated or corrupt JPEG/);
    const badCrc = png.slice();
    badCrc[100] = badCrc[100]! ^ 0x55; // inside the first IDAT chunk (bytes 54…8258)
    expectError(() => decodeImage(badCrc, 'crc.png'), 'E_BAD_INPUT', /crc\.png: truncated or corrupt PNG/);
    expectError(() => decodeImage(new TextEncoder().encode('GIF89a...'), 'anim.gif'), 'E_BAD_INPUT', /anim\.gif: not a PNG or JPEG file \(starts with 47 49 46 38\)/);
    expectError(() => decodeImage(new Uint8Array(0), 'empty.png'), 'E_BAD_INPUT', /empty\.png: not a PNG or JPEG file \(starts with nothing\)/);
  });

  it('truncated-png-pixels: a PNG whose pixel data is shorter than its header declares fails the same way every time', () => {
    // What pngjs alone decoded as an image of leftover memory (0 faces at 8000², a different error per run at 512²).
    for (const side of [512, 8000]) {
      const short = png({ width: side, height: side, colourType: 2, rows: deflateSync(new Uint8Array(10)) });
      for (let run = 0; run < 3; run++) {
        expectError(() => decodeImage(short, 'short.png'), 'E_BAD_INPUT',
          new RegExp(`^E_BAD_INPUT: short\\.png: truncated PNG \\(its pixel data holds 10 of the ${side * (1 + 3 * side)} bytes ${side}×${side} needs\\)$`));
      }
    }
    const camera = read('camera.png');
    expectError(() => decodeImage(camera.subarray(0, 200), 'cut.png'), 'E_BAD_INPUT', /^E_BAD_INPUT: cut\.png: truncated PNG \(its pixel data holds \d+ of the 262656 bytes 512×512 needs\)$/);
  });

  it('decodes an Adam7-interlaced PNG (whose pixel data is counted pass by pass)', () => {
    const [width, height] = [13, 10]; // not multiples of 8: every pass is ragged
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37 + 11) % 256);
    const raw: number[] = [];
    for (const [x0, y0, dx, dy] of [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const) {
      for (let y = y0; y < height; y += dy) {
        if (x0 >= width) continue;
        raw.push(0); // filter: none
        for (let x = x0; x < width; x += dx) raw.push(...rgb.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));
      }
    }
    const image = decodeImage(png({ width, height, colourType: 2, interlaced: true, rows: deflateSync(Uint8Array.from(raw)) }), 'adam7.png');
    expect([image.width, image.height]).toEqual([width, height]);
    expect(Array.from(image.data)).toEqual(Array.from(rgb));
  });

  it('refuses absurd sizes from the header alone', () => {
    const png = (width: number, height: number) => {
      const bytes = read('camera.png').slice(0, 33); // signature + IHDR: nothing to decode behind it
      const view = new DataView(bytes.buffer);
      view.setUint32(16, width);
      view.setUint32(20, height);
      return bytes;
    };
    expectError(() => decodeImage(png(100_000, 100_000), 'big.png'), 'E_BAD_INPUT', /big\.png: 100000×100000 pixels is larger than hibiki accepts/);
    expectError(() => decodeImage(png(16_384, 16_384), 'big.png'), 'E_BAD_INPUT', /16384×16384 pixels is larger than hibiki accepts \(16384 a side, 100 M pixels\)/);
    expectError(() => decodeImage(png(0, 10), 'flat.png'), 'E_BAD_INPUT', /flat\.png: the png header gives an empty image \(0×10\)/);
    // SOI, SOF0 declaring 65535×65535, nothing else
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0xff, 0xff, 0xff, 0xff, 0x03]);
    expectError(() => decodeImage(jpeg, 'big.jpg'), 'E_BAD_INPUT', /big\.jpg: 65535×65535 pixels is larger than hibiki accepts/);
  });

  it('converts grey and RGBA to RGB', () => {
    expect(Array.from(toRgb({ width: 2, height: 1, channels: 1, data: new Uint8Array([7, 9]) }).data)).toEqual([7, 7, 7, 9, 9, 9]);
    expect(Array.from(toRgb({ width: 1, height: 1, channels: 4, data: new Uint8Array([1, 2, 3, 4]) }).data)).toEqual([1, 2, 3]);
  });
});

describe('resizeBilinearLegacy (TF alignCorners = false, halfPixelCenters = false)', () => {
  const close = (got: Float32Array, want: number[]) => {
    expect(got).toHaveLength(want.length);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
  };

  it('2×2 → 3×3: source o·2/3, the last row and column repeat (tfjs resize_bilinear_test)', () => {
    close(resizeBilinearLegacy({ width: 2, height: 2, channels: 1, data: [2, 2, 4, 4] }, 3, 3), [2, 2, 2, 10 / 3, 10 / 3, 10 / 3, 4, 4, 4]);
  });

  it('4×4 → 3×3 reproduces a linear ramp at source positions 0, 4/3, 8/3', () => {
    const ramp = Array.from({ length: 16 }, (_, i) => i); // v(y, x) = 4y + x
    const p = [0, 4 / 3, 8 / 3];
    close(resizeBilinearLegacy({ width: 4, height: 4, channels: 1, data: ramp }, 3, 3), p.flatMap((y) => p.map((x) => 4 * y + x)));
  });

  it('reads zeros beyond the source inside the frame (face-api pads at the right and bottom)', () => {
    // [[1], [3]] in a 2×2 frame = [[1, 0], [3, 0]], resized to 3×3
    const got = resizeBilinearLegacy({ width: 1, height: 2, channels: 1, data: [1, 3] }, 3, 3, { width: 2, height: 2 });
    close(got, [1, 1 / 3, 0, 7 / 3, 7 / 9, 0, 3, 1, 0]);
  });

  it('keeps channels interleaved', () => {
    const got = resizeBilinearLegacy({ width: 2, height: 1, channels: 2, data: [0, 10, 6, 40] }, 3, 1);
    close(got, [0, 10, 4, 30, 6, 40]);
  });

  it('writes into the array it is given, and refuses one of the wrong size', () => {
    const out = new Float32Array(9).fill(NaN);
    expect(resizeBilinearLegacy({ width: 2, height: 2, channels: 1, data: [2, 2, 4, 4] }, 3, 3, undefined, out)).toBe(out);
    close(out, [2, 2, 2, 10 / 3, 10 / 3, 10 / 3, 4, 4, 4]);
    expect(() => resizeBilinearLegacy({ width: 2, height: 2, channels: 1, data: [2, 2, 4, 4] }, 3, 3, undefined, new Float32Array(8)))
      .toThrow(/out holds 8 floats, not 3·3·1/);
  });
});

/** A PNG file from its parts: 8-bit samples, one IDAT chunk holding `rows` (already deflated). */
function png(o: { width: number; height: number; colourType: number; interlaced?: boolean; rows: Uint8Array }): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(o.width, 0);
  ihdr.writeUInt32BE(o.height, 4);
  ihdr.set([8, o.colourType, 0, 0, o.interlaced ? 1 : 0], 8);
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', o.rows), chunk('IEND', new Uint8Array(0))]));
}
