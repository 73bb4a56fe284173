/**
 * A 16×16 favicon drawn at start-up (a filled disc), so browsers stop logging a 404 for
 * `/favicon.ico` on every hosted page and nothing binary lives in the repository.
 * ICO = 6-byte header + 16-byte directory entry + a 32-bit BMP without file header whose
 * height is doubled (colour rows then the 1-bit AND mask), rows bottom-up.
 */
export function drawFavicon(rgb: [number, number, number] = [0x33, 0x55, 0xff]): Buffer {
  const size = 16;
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x - 7.5;
      const dy = y - 7.5;
      const inside = dx * dx + dy * dy <= 7.5 * 7.5;
      const at = ((size - 1 - y) * size + x) * 4;
      pixels[at] = rgb[2];
      pixels[at + 1] = rgb[1];
      pixels[at + 2] = rgb[0];
      pixels[at + 3] = inside ? 0xff : 0;
    }
  }
  const mask = Buffer.alloc(size * 4); // 16 rows × 32-bit aligned row of 16 bits: all opaque
  const bmp = Buffer.alloc(40);
  bmp.writeUInt32LE(40, 0);
  bmp.writeInt32LE(size, 4);
  bmp.writeInt32LE(size * 2, 8);
  bmp.writeUInt16LE(1, 12);
  bmp.writeUInt16LE(32, 14);
  bmp.writeUInt32LE(pixels.length + mask.length, 20);
  const image = Buffer.concat([bmp, pixels, mask]);
  const header = Buffer.alloc(6 + 16);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(1, 4);
  header[6] = size;
  header[7] = size;
  header.writeUInt16LE(1, 10);
  header.writeUInt16LE(32, 12);
  header.writeUInt32LE(image.length, 14);
  header.writeUInt32LE(header.length, 18);
  return Buffer.concat([header, image]);
}
