/// The value of one JSON number token, in the form the parser keeps it: an integer token that fits
/// `Int64` is `int`, one above `Int64.max` that fits `UInt64` is `uint`, anything else (fraction,
/// exponent, `-0`, larger integers, `NaN`, `Infinity`, `-Infinity`) is `double`.
///
/// `JSONValue` stores these as its `int`, `uint` and `double` cases; the direct tensor decoders
/// convert them to elements without building a `JSONValue`.
enum JSONNumber: Sendable, Hashable {
    case int(Int64)
    case uint(UInt64)
    case double(Double)

    /// The same number as a `JSONValue`.
    @inline(__always)
    var jsonValue: JSONValue {
        switch self {
        case .int(let value): .int(value)
        case .uint(let value): .uint(value)
        case .double(let value): .double(value)
        }
    }
}

/// Decimal to binary64 conversion for a decimal significand of at most 19 digits.
enum DecimalToDouble {
    /// 10^exponent for 0...22, all exact in a double.
    @inline(__always)
    static func exactPowerOfTen(_ exponent: Int) -> Double {
        switch exponent {
        case 0: 1e0
        case 1: 1e1
        case 2: 1e2
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        case 10: 1e10
        case 11: 1e11
        case 12: 1e12
        case 13: 1e13
        case 14: 1e14
        case 15: 1e15
        case 16: 1e16
        case 17: 1e17
        case 18: 1e18
        case 19: 1e19
        case 20: 1e20
        case 21: 1e21
        default: 1e22
        }
    }

    /// `significand × 10^exponent` correctly rounded (to nearest, ties to even), or `nil` when
    /// the fast algorithms cannot decide it (the caller then asks the C library).
    ///
    /// First the classic exact case: a significand of at most 2^53 and a power of ten that is
    /// itself exact in a double, so the single multiplication or division rounds correctly. Then
    /// the Eisel-Lemire algorithm: the significand times a 128-bit truncation of the power of ten
    /// gives the result's leading bits, unless they sit too close to a rounding boundary (then
    /// `nil`). Subnormal and overflowing results are left to the caller too.
    @inline(__always)
    static func convert(significand: UInt64, exponent: Int, negative: Bool) -> Double? {
        if let value = convertExactly(significand: significand, exponent: exponent, negative: negative) {
            return value
        }
        return eiselLemire(significand: significand, exponent: exponent, negative: negative)
    }

    /// The classic exact case alone (`nil` outside it).
    @inline(__always)
    static func convertExactly(significand: UInt64, exponent: Int, negative: Bool) -> Double? {
        guard significand <= 1 << 53, exponent >= -22, exponent <= 22 else { return nil }
        var value = Double(significand)
        if exponent < 0 {
            value /= exactPowerOfTen(-exponent)
        } else if exponent > 0 {
            value *= exactPowerOfTen(exponent)
        }
        return negative ? -value : value
    }

    /// 10^-exponent for 0...22, each the nearest double (only 10^0 is exact).
    @inline(__always)
    static func reciprocalPowerOfTen(_ exponent: Int) -> Double {
        switch exponent {
        case 0: 1e-0
        case 1: 1e-1
        case 2: 1e-2
        case 3: 1e-3
        case 4: 1e-4
        case 5: 1e-5
        case 6: 1e-6
        case 7: 1e-7
        case 8: 1e-8
        case 9: 1e-9
        case 10: 1e-10
        case 11: 1e-11
        case 12: 1e-12
        case 13: 1e-13
        case 14: 1e-14
        case 15: 1e-15
        case 16: 1e-16
        case 17: 1e-17
        case 18: 1e-18
        case 19: 1e-19
        case 20: 1e-20
        case 21: 1e-21
        default: 1e-22
        }
    }

    /// A double `d` with `Float(d) == Float(convert(...))`, that is, the float that the nearest
    /// double rounds to, for any 64-bit significand and an exponent within ±22; `nil` when this
    /// shortcut cannot promise that (the caller then converts exactly).
    ///
    /// `Double(significand)` and the scaling by a power of ten (itself the nearest double) are
    /// each within half a unit in the last place, so `d` lies within a few units of the nearest
    /// double. Rounding to a float keeps 24 of the 53 bits, so both round to the same float unless
    /// a float tie (the dropped 29 bits equal to 2^28) lies within those few units: when `d`'s
    /// dropped bits are within 8 units of a tie, or the result is no normal float, `nil`.
    @_transparent
    static func convertForFloat(significand: UInt64, exponent: Int, negative: Bool) -> Double? {
        if significand == 0 { return negative ? -0.0 : 0.0 }
        guard exponent >= -22, exponent <= 22 else { return nil }
        var value = Double(significand)
        if exponent < 0 {
            value *= reciprocalPowerOfTen(-exponent)
        } else if exponent > 0 {
            value *= exactPowerOfTen(exponent)
        }
        let bits = value.bitPattern
        let dropped = bits & 0x1FFF_FFFF
        guard dropped &- (0x1000_0000 - 8) > 16,
            // Normal floats: a biased double exponent from 1023 - 126 through 1023 + 127.
            bits >> 52 >= 1023 - 126, bits >> 52 <= 1023 + 127
        else { return nil }
        return negative ? -value : value
    }

    static func eiselLemire(significand: UInt64, exponent: Int, negative: Bool) -> Double? {
        if significand == 0 { return negative ? -0.0 : 0.0 }
        guard exponent >= PowersOfTen.minimumExponent, exponent <= PowersOfTen.maximumExponent else { return nil }
        let leadingZeros = significand.leadingZeroBitCount
        let normalized = significand << UInt64(leadingZeros)
        // The biased binary exponent of the result, before the adjustments below: 217706 / 2^16
        // approximates log2(10), and the table's mantissas all have their top bit at 2^127.
        var binaryExponent = ((217_706 &* exponent) >> 16) &+ 64 &+ 1023 &- leadingZeros
        let (high, low) = PowersOfTen.table.withUnsafeBufferPointer { table in
            let index = 2 &* (exponent &- PowersOfTen.minimumExponent)
            return (table[index], table[index &+ 1])
        }
        var product = normalized.multipliedFullWidth(by: high)
        // The truncated power may be too small by less than one unit of its low word: only when
        // the product's low bits are all ones could the rest of the product carry into them.
        if product.high & 0x1FF == 0x1FF, product.low &+ normalized < normalized {
            let extra = normalized.multipliedFullWidth(by: low)
            var mergedHigh = product.high
            let (mergedLow, carry) = product.low.addingReportingOverflow(extra.high)
            if carry { mergedHigh &+= 1 }
            if mergedHigh & 0x1FF == 0x1FF, mergedLow == .max, extra.low &+ normalized < normalized {
                return nil
            }
            product = (mergedHigh, mergedLow)
        }
        // Keep 54 bits (53 plus one for rounding).
        let topBit = product.high >> 63
        var mantissa = product.high >> (topBit &+ 9)
        binaryExponent &-= Int(1 &- topBit)
        // Exactly halfway between two doubles, as far as these bits can tell: undecidable here.
        if product.low == 0, product.high & 0x1FF == 0, mantissa & 3 == 1 {
            return nil
        }
        mantissa &+= mantissa & 1
        mantissa >>= 1
        if mantissa >> 53 > 0 {
            mantissa >>= 1
            binaryExponent &+= 1
        }
        // Subnormal (exponent 0 or below) and infinite (0x7FF and above) results go to the caller.
        guard binaryExponent >= 1, binaryExponent < 0x7FF else { return nil }
        let bits = UInt64(binaryExponent) << 52 | mantissa & 0x000F_FFFF_FFFF_FFFF
        return Double(bitPattern: negative ? bits | 1 << 63 : bits)
    }
}

/// 128-bit truncations of the powers of ten 10^-348 ... 10^347, each scaled by a power of two so
/// that its top bit is bit 127: for 10^e, `table[2 × (e + 348)]` holds the high 64 bits and the
/// next entry the low 64 bits. Computed once, exactly, with a small big-integer routine.
enum PowersOfTen {
    static let minimumExponent = -348
    static let maximumExponent = 347

    static let table: [UInt64] = {
        var table = [UInt64](repeating: 0, count: 2 * (maximumExponent - minimumExponent + 1))
        // Non-negative exponents: 10^e exactly, by repeated multiplication.
        var power = BigNatural(1)
        for exponent in 0...maximumExponent {
            let (high, low) = power.leading128Bits()
            table[2 * (exponent - minimumExponent)] = high
            table[2 * (exponent - minimumExponent) + 1] = low
            power.multiply(by: 10)
        }
        // Negative exponents: floor(2^2048 / 10^k), by repeated division (floor(floor(x) / 10) is
        // floor(x / 10)); 2^2048 leaves well over 128 significant bits even at 10^-348.
        var quotient = BigNatural(powerOfTwo: 2048)
        for k in 1...(-minimumExponent) {
            quotient.divide(by: 10)
            let (high, low) = quotient.leading128Bits()
            table[2 * (-k - minimumExponent)] = high
            table[2 * (-k - minimumExponent) + 1] = low
        }
        return table
    }()
}

/// A natural number as little-endian 32-bit limbs; just enough arithmetic for `PowersOfTen`.
private struct BigNatural {
    var limbs: [UInt32]

    init(_ value: UInt32) { limbs = [value] }

    init(powerOfTwo exponent: Int) {
        limbs = [UInt32](repeating: 0, count: exponent / 32 + 1)
        limbs[exponent / 32] = 1 << UInt32(exponent % 32)
    }

    mutating func multiply(by factor: UInt32) {
        var carry: UInt64 = 0
        for index in limbs.indices {
            let product = UInt64(limbs[index]) * UInt64(factor) + carry
            limbs[index] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
        }
        if carry > 0 { limbs.append(UInt32(carry)) }
    }

    mutating func divide(by divisor: UInt32) {
        var remainder: UInt64 = 0
        for index in limbs.indices.reversed() {
            let current = remainder << 32 | UInt64(limbs[index])
            limbs[index] = UInt32(current / UInt64(divisor))
            remainder = current % UInt64(divisor)
        }
        while limbs.count > 1, limbs.last == 0 { limbs.removeLast() }
    }

    /// The 128 bits starting at the highest set bit (zero-filled below the number's last bit),
    /// as high and low words: the number shifted so that its top bit is bit 127, truncated.
    func leading128Bits() -> (UInt64, UInt64) {
        var top = limbs.count - 1
        while top > 0, limbs[top] == 0 { top -= 1 }
        let bitLength = top * 32 + (32 - limbs[top].leadingZeroBitCount)
        var high: UInt64 = 0
        var low: UInt64 = 0
        for offset in 0..<128 {
            let bitIndex = bitLength - 1 - offset
            let bit: UInt64 = bitIndex >= 0 ? UInt64(limbs[bitIndex / 32] >> UInt32(bitIndex % 32) & 1) : 0
            if offset < 64 {
                high |= bit << UInt64(63 - offset)
            } else {
                low |= bit << UInt64(127 - offset)
            }
        }
        return (high, low)
    }
}
