import CGif
import Foundation
import Testing
import Visualization

/// The GIF writer, read back with giflib's own decoder.
@Suite struct AnimatedGIFTests {
    /// Decodes `data` with giflib: each frame's palette-resolved pixels (r, g, b), the delays and
    /// whether the NETSCAPE2.0 loop extension is there.
    static func decode(_ data: Data, path: String) throws -> (frames: [[[UInt8]]], delays: [Int], loops: Bool, width: Int, height: Int) {
        try data.write(to: URL(fileURLWithPath: path))
        var error: Int32 = 0
        let file = try #require(DGifOpenFileName(path, &error))
        defer { DGifCloseFile(file, &error) }
        #expect(DGifSlurp(file) == GIF_OK)
        let gif = file.pointee
        var frames: [[[UInt8]]] = [], delays: [Int] = [], loops = false
        for index in 0..<Int(gif.ImageCount) {
            let image = gif.SavedImages[index]
            let map = image.ImageDesc.ColorMap ?? gif.SColorMap!
            let count = Int(image.ImageDesc.Width * image.ImageDesc.Height)
            frames.append((0..<count).map { pixel in
                let colour = map.pointee.Colors[Int(image.RasterBits[pixel])]
                return [colour.Red, colour.Green, colour.Blue]
            })
            var control = GraphicsControlBlock()
            if DGifSavedExtensionToGCB(file, Int32(index), &control) == GIF_OK { delays.append(Int(control.DelayTime)) }
            for block in 0..<Int(image.ExtensionBlockCount) where image.ExtensionBlocks[block].Function == APPLICATION_EXT_FUNC_CODE {
                loops = loops || String(decoding: UnsafeBufferPointer(start: image.ExtensionBlocks[block].Bytes, count: Int(image.ExtensionBlocks[block].ByteCount)), as: UTF8.self) == "NETSCAPE2.0"
            }
        }
        return (frames, delays, loops, Int(gif.SWidth), Int(gif.SHeight))
    }

    @Test func greyFramesReadBackExactlyWithTheirDelayAndTheLoop() throws {
        let frames = (0..<3).map { frame in Picture(width: 4, height: 3, pixels: (0..<12).map { UInt8(($0 * 20 + frame * 7) % 256) }) }
        let data = try AnimatedGIF(frames: frames, delay: 15).gifData()
        #expect(data.prefix(6) == Data("GIF89a".utf8))
        let decoded = try Self.decode(data, path: NSTemporaryDirectory() + "grey-\(UUID().uuidString).gif")
        #expect(decoded.width == 4 && decoded.height == 3 && decoded.frames.count == 3)
        for (frame, picture) in zip(decoded.frames, frames) { #expect(frame == picture.pixels.map { [$0, $0, $0] }) }
        #expect(decoded.delays == [15, 15, 15] && decoded.loops)
    }

    @Test func colourFramesAreQuantisedToTheColourCube() throws {
        // Pure primaries and white sit on the cube; an in-between orange goes to its nearest levels.
        let levels: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 250, 128, 10, 0, 0, 0]
        let data = try AnimatedGIF(frames: [Picture(width: 3, height: 2, channels: 3, pixels: levels)]).gifData()
        let decoded = try Self.decode(data, path: NSTemporaryDirectory() + "colour-\(UUID().uuidString).gif")
        #expect(decoded.frames[0] == [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [255, 127, 0], [0, 0, 0]], "\(decoded.frames[0])")
    }
}
