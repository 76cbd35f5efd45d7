import Testing
import WharfCore
@testable import WharfProtocols

@Test func debugTmpDirect() throws {
    let body = BenchBodies.predict
    let clock = ContinuousClock()
    try body.withUnsafeBufferPointer { bytes in
        for _ in 0..<3 {
            var t = clock.now
            for _ in 0..<1000 { _ = try TFServingJSON.decodeDirect(bytes: bytes, maximumDepth: 512) { _ in BenchBodies.signature } }
            print("DIRECT", (clock.now - t) / 1000)
            t = clock.now
            for _ in 0..<1000 {
                var p = JSONParser(bytes: bytes, maximumDepth: 512)
                p.position = 14
                _ = try p.scanRectangular()
            }
            print("SCAN", (clock.now - t) / 1000)
            t = clock.now
            for _ in 0..<1000 {
                var p = JSONParser(bytes: bytes, maximumDepth: 512)
                p.position = 14
                _ = try p.skipLeaves()
            }
            print("SKIP", (clock.now - t) / 1000)
            t = clock.now
            for _ in 0..<1000 { _ = try directTensor(dtype: .float32, shape: [1, 784], from: bytes, ranges: [15..<(bytes.count - 2)], perRange: 784) }
            print("DECODE", (clock.now - t) / 1000)
        }
    }
}
